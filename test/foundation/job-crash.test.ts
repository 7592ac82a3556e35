import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBullmqRunner } from '../../server/src/core/jobs/bullmq-runner.ts';
import type { JobRunner } from '../../server/src/core/jobs/job-types.ts';
import {
  crashJobOptions,
  ledgerEnv,
  openLedger,
  type CrashJobs,
  type Ledger,
  type LedgerOptions,
} from '../fixtures/crash-jobs.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { redisUrl, runners } from '../support/env.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';
import { sleep, until } from '../support/wait.ts';

/**
 * Worker processes that die or are stopped mid-job. They record what they did in a ledger outside
 * any process: Postgres when the run has it, else Redis, else files.
 */
const ledgerKind: LedgerOptions['kind'] = process.env.TEST_DATABASE_URL ? 'postgres' : redisUrl ? 'redis' : 'file';
const ledgerPrefix = uniquePrefix('ledger');
let testDb: TestDatabase | undefined;
let ledgerDir: string;
let ledgerOptions: LedgerOptions;
let ledger: Ledger;

beforeAll(async () => {
  ledgerDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-ledger-'));
  if (ledgerKind === 'postgres') testDb = await createTestDatabase('postgres');
  const location = ledgerKind === 'postgres' ? testDb!.url! : ledgerKind === 'redis' ? redisUrl! : ledgerDir;
  ledgerOptions = { kind: ledgerKind, location, prefix: ledgerPrefix };
  ledger = openLedger(ledgerOptions);
  await ledger.setup();
});
afterEach(killAllChildren);
afterAll(async () => {
  await ledger?.close();
  await testDb?.dispose();
  await rm(ledgerDir, { recursive: true, force: true });
  if (redisUrl) await deleteKeys(redisUrl, ledgerPrefix);
});

function startWorker(env: Record<string, string | undefined>) {
  return spawnTs('test/fixtures/crash-worker.ts', [], { env: childEnv({ ...ledgerEnv(ledgerOptions), ...env }) });
}

/** Enqueues and observes from this process; only the worker processes run the job. */
function observer(prefix: string): JobRunner<CrashJobs> {
  return createBullmqRunner<CrashJobs>({
    redisUrl: redisUrl!,
    prefix,
    jobs: crashJobOptions,
    processors: {
      effect: async () => {
        throw new Error('not processed in the test process');
      },
    },
  });
}

// Only BullMQ hands a dead worker's job to another process.
describe.each(redisUrl ? [redisUrl] : [])('a BullMQ worker process killed mid-job (%s)', (url) => {
  const prefix = uniquePrefix('crash');
  let queue: JobRunner<CrashJobs>;
  beforeAll(() => {
    queue = observer(prefix);
  });
  afterAll(async () => {
    await queue?.close(1000);
    await deleteKeys(url, prefix);
  });

  it(`is taken over by a new worker process and takes effect exactly once (ledger: ${ledgerKind})`, async () => {
    const key = randomUUID();
    const id = await queue.enqueue('effect', { key });
    const env = { RUNNER: 'bullmq', REDIS_URL: url, QUEUE_PREFIX: prefix };

    const first = startWorker({ ...env, HANG: '1' });
    await first.waitForOutput(/^ready$/m, 15_000);
    await until(async () => (await ledger.starts(key)).length === 1, 'the first worker to start the job', 10_000);
    expect(await queue.state('effect', id)).toBe('active');

    expect((await first.kill()).signal).toBe('SIGKILL');
    expect(await ledger.effects(key)).toEqual([]);

    const second = startWorker({ ...env, HANG: '0' });
    await until(async () => (await queue.state('effect', id)) === 'completed', 'the job to complete', 20_000);

    expect((await ledger.starts(key)).map((s) => s.pid)).toEqual([first.pid, second.pid]);
    expect(await ledger.effects(key)).toEqual([{ pid: second.pid }]);

    // Longer than a lock and a stalled check: nothing runs it a third time.
    await sleep(1600);
    expect(await ledger.starts(key)).toHaveLength(2);
    expect(await queue.state('effect', id)).toBe('completed');
    expect((await second.stop()).code).toBe(0);
  }, 45_000);
});

describe.each(runners)('a %s worker process stopped with SIGTERM mid-job', (runner) => {
  const prefix = uniquePrefix('drain');
  afterAll(async () => {
    if (redisUrl) await deleteKeys(redisUrl, prefix);
  });

  it(`finishes the job before it exits (ledger: ${ledgerKind})`, async () => {
    const key = randomUUID();
    const worker = startWorker({
      RUNNER: runner,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      JOB_MS: '800',
      ENQUEUE_KEY: key,
    });
    await worker.waitForOutput(new RegExp(`^started ${key} attempt 1$`, 'm'), 15_000);
    expect(await ledger.effects(key)).toEqual([]);

    expect(await worker.stop(15_000)).toEqual({ code: 0, signal: null });
    expect(await ledger.starts(key)).toEqual([{ pid: worker.pid, attempt: 1 }]);
    expect(await ledger.effects(key)).toEqual([{ pid: worker.pid }]);
    if (runner === 'bullmq') {
      // Recorded as done in Redis too, so no other worker runs it again.
      const queue = observer(prefix);
      try {
        expect(await queue.state('effect', `effect-${key}`)).toBe('completed');
      } finally {
        await queue.close(1000);
      }
    }
  }, 30_000);
});
