import type { Scenario } from '../lib/scenario.ts';
export const ingestion: Scenario = { name: 'ingestion', async run() { throw new Error('todo'); } };
