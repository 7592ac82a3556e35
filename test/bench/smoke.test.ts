import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../bench/lib/backends.ts';
import { runBench, SCENARIOS } from '../../bench/run.ts';

/**
 * The benchmark harness must not rot: every scenario runs in `--quick` mode (seconds each, tiny N)
 * and reports its figures. Not a timed test — nothing here asserts on a latency or a rate; the
 * numbers are only required to exist. Postgres + Redis run too when CI provides them.
 */
const backends: BackendName[] =
  process.env.TEST_DATABASE_URL && process.env.REDIS_URL ? ['embedded', 'postgres'] : ['embedded'];

describe.each(backends)('npm run bench -- --quick on %s', (backend) => {
  it('runs every scenario to completion and reports a table of figures for each', async () => {
    const lines: string[] = [];
    const results = await runBench({
      scenarios: SCENARIOS.map((s) => s.name),
      backends: [backend],
      quick: true,
      profile: false,
      log: (m) => lines.push(m),
    });
    expect(results.map((r) => r.scenario)).toEqual(SCENARIOS.map((s) => s.name));
    for (const result of results) {
      expect(result.backend).toBe(backend);
      expect(result.baseline.length).toBeGreaterThan(0);
      expect(result.rows.length).toBeGreaterThan(0);
      for (const row of result.rows) {
        expect(Number.isFinite(row.value), `${result.scenario}: ${row.metric} = ${row.value}`).toBe(true);
        if (row.baseline !== undefined)
          expect(Number.isFinite(row.baseline), `${result.scenario}: ${row.metric} baseline`).toBe(true);
      }
    }
    expect(lines.join('\n')).toContain('| metric');
  }, 300_000);
});
