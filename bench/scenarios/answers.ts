import type { Scenario } from '../lib/scenario.ts';
export const answers: Scenario = { name: 'answers', async run() { throw new Error('todo'); } };
