import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../server/src/core/db/database.ts';
import { createBullmqRunner } from '../../server/src/core/jobs/bullmq-runner.ts';
import { createInProcessRunner } from '../../server/src/core/jobs/in-process-runner.ts';
import {
  PermanentJobError,
  type JobOptionsMap,
  type JobRunner,
  type JobState,
  type Processors,
} from '../../server/src/core/jobs/job-types.ts';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { redisUrl, runners } from '../support/env.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { sleep, until } from '../support/wait.ts';

/** A job map of our own: the runners are generic, so their behaviour is tested apart from Enclave's jobs. */
interface TestJobs {
  square: { tag: string; n: number };
  flaky: { key: string; failTimes: number };
  permanent: { key: string };
  slow: { key: string; ms: number };
}

const BACKOFF_MS = 100;

const jobOptions: JobOptionsMap<TestJobs> = {
  square: { jobId: ({ tag, n }) => `square-${tag}-${n}`, attempts: 3, backoffMs: BACKOFF_MS, concurrency: 4 },
  flaky: { jobId: ({ key }) => `flaky-${key}`, attempts: 3, backoffMs: BACKOFF_MS, concurrency: 1 },
  permanent: { jobId: ({ key }) => `permanent-${key}`, attempts: 3, backoffMs: BACKOFF_MS, concurrency: 1 },
  slow: { jobId: ({ key }) => `slow-${key}`, attempts: 1, backoffMs: BACKOFF_MS, concurrency: 2 },
};

type RunnerKind = (typeof runners)[number];

interface Row {
  key: string;
  attempt: number;
  started_ms: number;
  result: number | null;
}

let testDb: TestDatabase;
let db: Database;

beforeAll(async () => {
  // Real Postgres when the run has it, else PGlite: the processors write real rows either way.
  testDb = await createTestDatabase(backends.at(-1)!);
  db = testDb.db;
  await db.exec(`CREATE TABLE job_runs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job        text NOT NULL,
    key        text NOT NULL,
    attempt    integer NOT NULL,
    started_ms bigint NOT NULL,
    result     bigint
  )`);
});
afterAll(() => testDb?.dispose());

async function runs(job: keyof TestJobs, key: string): Promise<Row[]> {
  const { rows } = await db.query<Row>(
    'SELECT key, attempt, started_ms, result FROM job_runs WHERE job = $1 AND key = $2 ORDER BY id',
    [job, key],
  );
  return rows;
}

/** Processors that record every attempt as a row, plus how many ran at once. */
function makeProcessors() {
  const tracker = { running: 0, maxRunning: 0, started: new Set<string>() };
  const start = async (job: keyof TestJobs, key: string, attempt: number, result: number | null = null) => {
    const { rows } = await db.query<{ id: number }>(
      'INSERT INTO job_runs (job, key, attempt, started_ms, result) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [job, key, attempt, Date.now(), result],
    );
    return rows[0]!.id;
  };
  const processors: Processors<TestJobs> = {
    async square({ tag, n }, { attempt }) {
      await start('square', `${tag}-${n}`, attempt, n * n);
    },
    async flaky({ key, failTimes }, { attempt }) {
      await start('flaky', key, attempt);
      if (attempt <= failTimes) throw new Error(`flaky ${key} failed on attempt ${attempt}`);
    },
    async permanent({ key }, { attempt }) {
      await start('permanent', key, attempt);
      throw new PermanentJobError(`document ${key} is not a PDF`);
    },
    async slow({ key, ms }, { attempt }) {
      tracker.running += 1;
      tracker.maxRunning = Math.max(tracker.maxRunning, tracker.running);
      try {
        const id = await start('slow', key, attempt);
        tracker.started.add(key);
        await sleep(ms);
        await db.query('UPDATE job_runs SET result = 1 WHERE id = $1', [id]);
      } finally {
        tracker.running -= 1;
      }
    },
  };
  return { processors, tracker };
}

function createRunner(kind: RunnerKind, processors: Processors<TestJobs>) {
  if (kind === 'in-process') return { runner: createInProcessRunner({ jobs: jobOptions, processors }) };
  const prefix = uniquePrefix('jobs');
  const runner = createBullmqRunner({
    redisUrl: redisUrl!,
    prefix,
    jobs: jobOptions,
    processors,
    lockDurationMs: 2000,
    stalledIntervalMs: 1000,
  });
  return { runner, prefix };
}

async function settled(runner: JobRunner<TestJobs>, name: keyof TestJobs, id: string, timeoutMs = 10_000) {
  return until(
    async () => {
      const state = await runner.state(name, id);
      return state === 'completed' || state === 'failed' ? state : undefined;
    },
    `${name} ${id} to finish`,
    timeoutMs,
  );
}

describe('the same processors under every runner', () => {
  it(`produce identical rows (${runners.join(', ')})`, async () => {
    const results: Record<string, { key: string; result: number | null }[]> = {};
    for (const kind of runners) {
      const { processors } = makeProcessors();
      const { runner, prefix } = createRunner(kind, processors);
      try {
        await runner.startProcessing();
        const tag = `same-${kind}`;
        const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => runner.enqueue('square', { tag, n })));
        const states = await Promise.all(ids.map((id) => settled(runner, 'square', id)));
        expect(states).toEqual(ids.map((): JobState => 'completed'));
        const { rows } = await db.query<{ key: string; result: number | null }>(
          `SELECT replace(key, $1, '') AS key, result FROM job_runs WHERE job = 'square' AND key LIKE $2 ORDER BY result`,
          [`${tag}-`, `${tag}-%`],
        );
        results[kind] = rows;
      } finally {
        await runner.close(2000);
        if (prefix) await deleteKeys(redisUrl!, prefix);
      }
    }
    const expected = [1, 2, 3, 4, 5, 6].map((n) => ({ key: String(n), result: n * n }));
    for (const kind of runners) expect(results[kind], kind).toEqual(expected);
  });
});

describe.each(runners)('%s job runner', (kind) => {
  let runner: JobRunner<TestJobs>;
  let tracker: ReturnType<typeof makeProcessors>['tracker'];
  let prefix: string | undefined;
  let closed: boolean;

  beforeEach(async () => {
    const made = makeProcessors();
    tracker = made.tracker;
    ({ runner, prefix } = createRunner(kind, made.processors));
    closed = false;
    await runner.startProcessing();
  });
  afterEach(async () => {
    if (!closed) await runner.close(2000);
    if (prefix) await deleteKeys(redisUrl!, prefix);
  });
  const close = async (deadlineMs: number) => {
    closed = true;
    await runner.close(deadlineMs);
  };
  /** A job's state as another process sees it once this runner is closed. */
  const stateAfterClose = async (name: keyof TestJobs, id: string) => {
    if (!prefix) return runner.state(name, id);
    const observer = createBullmqRunner({
      redisUrl: redisUrl!,
      prefix,
      jobs: jobOptions,
      processors: makeProcessors().processors,
    });
    try {
      return await observer.state(name, id);
    } finally {
      await observer.close(1000);
    }
  };

  it('runs a job enqueued twice under the same id once', async () => {
    const tag = randomUUID();
    const [a, b] = await Promise.all([
      runner.enqueue('square', { tag, n: 7 }),
      runner.enqueue('square', { tag, n: 7 }),
    ]);
    expect(a).toBe(b);
    expect(await settled(runner, 'square', a)).toBe('completed');
    // Still a no-op after it finished (a periodic job enqueued by every server instance runs once).
    await runner.enqueue('square', { tag, n: 7 });
    await sleep(300);
    expect(await runs('square', `${tag}-7`)).toEqual([expect.objectContaining({ attempt: 1, result: 49 })]);
  });

  it('retries a failing job with growing backoff, then marks it failed', async () => {
    const key = randomUUID();
    const id = await runner.enqueue('flaky', { key, failTimes: 99 });
    expect(await settled(runner, 'flaky', id)).toBe('failed');
    const attempts = await runs('flaky', key);
    expect(attempts.map((r) => r.attempt)).toEqual([1, 2, 3]);
    const [first, second, third] = attempts.map((r) => r.started_ms);
    const gaps = [second! - first!, third! - second!];
    // backoffMs, then twice that (timers may fire a few ms early relative to our clock).
    expect(gaps[0]).toBeGreaterThanOrEqual(BACKOFF_MS * 0.9);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * BACKOFF_MS * 0.9);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    // Failed for good: no fourth attempt.
    await sleep(4 * BACKOFF_MS);
    expect(await runs('flaky', key)).toHaveLength(3);
    expect((await runner.counts('flaky')).failed).toBe(1);
  });

  it('completes a job that succeeds on a retry', async () => {
    const key = randomUUID();
    const id = await runner.enqueue('flaky', { key, failTimes: 1 });
    expect(await settled(runner, 'flaky', id)).toBe('completed');
    expect((await runs('flaky', key)).map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('does not retry a PermanentJobError', async () => {
    const key = randomUUID();
    const id = await runner.enqueue('permanent', { key });
    expect(await settled(runner, 'permanent', id)).toBe('failed');
    await sleep(3 * BACKOFF_MS);
    expect((await runs('permanent', key)).map((r) => r.attempt)).toEqual([1]);
    expect(await runner.state('permanent', id)).toBe('failed');
  });

  it('never runs more jobs of a name at once than its concurrency', async () => {
    const keys = Array.from({ length: 6 }, () => randomUUID());
    const ids = await Promise.all(keys.map((key) => runner.enqueue('slow', { key, ms: 150 })));
    for (const id of ids) expect(await settled(runner, 'slow', id)).toBe('completed');
    expect(tracker.maxRunning).toBe(2);
    for (const key of keys) expect(await runs('slow', key)).toEqual([expect.objectContaining({ result: 1 })]);
  });

  it('close(deadline) lets a running job finish before it resolves', async () => {
    const key = randomUUID();
    const id = await runner.enqueue('slow', { key, ms: 600 });
    await until(() => tracker.started.has(key), 'the slow job to start');
    expect(await runs('slow', key)).toEqual([expect.objectContaining({ result: null })]);
    await close(5000);
    expect(await runs('slow', key)).toEqual([expect.objectContaining({ result: 1 })]);
    expect(tracker.running).toBe(0);
    // Recorded as completed, so no other worker runs it again.
    expect(await stateAfterClose('slow', id)).toBe('completed');
  });

  it('close(deadline) gives up waiting at the deadline', async () => {
    const key = randomUUID();
    await runner.enqueue('slow', { key, ms: 1500 });
    await until(() => tracker.started.has(key), 'the slow job to start');
    const started = Date.now();
    await close(300);
    expect(Date.now() - started).toBeLessThan(1000);
    // Let the abandoned job end before the next test, so it does not count towards its concurrency.
    await until(() => tracker.running === 0, 'the abandoned job to end', 5000);
  });
});
