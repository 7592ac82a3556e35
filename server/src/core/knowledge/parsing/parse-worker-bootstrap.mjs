// Worker threads start without the TypeScript loader the main thread may have (vitest, tsx):
// register tsx here, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./parse-worker.ts');
