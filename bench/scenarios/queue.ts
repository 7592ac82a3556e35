import type { Scenario } from '../lib/scenario.ts';
export const queue: Scenario = { name: 'queue', async run() { throw new Error('todo'); } };
