import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../server/src/core/crypto/password.ts';
import { createPgliteDatabase } from '../../server/src/core/db/pglite.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { request } from '../support/http.ts';
import { deleteKeys } from '../support/redis.ts';
import { childEnv, killAllChildren, spawnTs, type SpawnedProcess } from '../support/spawn.ts';

/** Waits for the "Enclave is ready" log line and returns the URL it announces. */
async function ready(proc: SpawnedProcess): Promise<string> {
  const line = await proc.waitForLog((l) => l.msg === 'Enclave is ready', 60_000);
  expect(line.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return line.url as string;
}

async function readyz(url: string) {
  return request(url, 'GET', '/readyz');
}

/** The admins in an embedded install's data dir (the process must be stopped: PGlite is single-process). */
async function embeddedAdmins(dataDir: string) {
  const db = await createPgliteDatabase({ dataDir: path.join(dataDir, 'pglite') });
  try {
    const { rows } = await db.query<{ email: string; password_hash: string }>(
      `SELECT email, password_hash FROM users WHERE role = 'admin'`,
    );
    return rows;
  } finally {
    await db.close();
  }
}

const tmpDirs: string[] = [];
async function tmpDir(label: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `enclave-${label}-`));
  tmpDirs.push(dir);
  return dir;
}

afterEach(killAllChildren);
afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('`main.ts all` with nothing installed (embedded PGlite, in-process jobs)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await tmpDir('start');
  });
  const start = () =>
    spawnTs('server/src/main.ts', ['all'], {
      env: childEnv({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' }),
    });

  it('starts, prints a working first-admin password once, stops on SIGTERM, and restarts without a second admin', async () => {
    const first = start();
    const url = await ready(first);
    const res = await readyz(url);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { database: 'ok', queue: 'ok', realtime: 'ok' } });
    expect(first.logs().find((l) => l.msg === 'Enclave is ready')).toMatchObject({
      database: 'pglite',
      jobs: 'in-process',
      realtime: 'memory',
    });

    const printed = /First admin created: (\S+)\n\s*Password \(shown once[^)]*\): (\S+)/.exec(first.stdout());
    expect(printed, first.stdout()).not.toBeNull();
    const [, email, password] = printed!;
    expect(password!.length).toBeGreaterThanOrEqual(24);
    // The password goes to the terminal only, never into a JSON log line.
    expect(first.logs().some((l) => JSON.stringify(l).includes(password!))).toBe(false);

    const stopped = await first.stop(15_000);
    expect(stopped).toEqual({ code: 0, signal: null });
    expect(first.logs().map((l) => l.msg)).toContain('stopped');

    const admins = await embeddedAdmins(dataDir);
    expect(admins).toHaveLength(1);
    expect(admins[0]!.email).toBe(email);
    expect(await verifyPassword(admins[0]!.password_hash, password!)).toBe(true);

    const second = start();
    const url2 = await ready(second);
    expect((await readyz(url2)).status).toBe(200);
    expect(second.stdout()).not.toContain('First admin created');
    expect(second.logs().find((l) => l.msg === 'migrations applied')).toBeUndefined();
    expect((await second.stop(15_000)).code).toBe(0);

    const after = await embeddedAdmins(dataDir);
    expect(after).toHaveLength(1);
    expect(after[0]!.password_hash).toBe(admins[0]!.password_hash);
  }, 120_000);

  it('`workers/src/main.ts` without REDIS_URL exits 1 naming REDIS_URL', async () => {
    const worker = spawnTs('workers/src/main.ts', [], {
      via: 'tsx-cli',
      env: childEnv({ DATA_DIR: await tmpDir('worker'), LOG_LEVEL: 'info' }),
    });
    const exit = await worker.waitForExit(15_000);
    expect(exit.code).toBe(1);
    expect(worker.stderr()).toContain('REDIS_URL');
    expect(worker.stderr()).toContain('The worker did not start');
    expect(worker.logs().map((l) => l.msg)).not.toContain('worker ready');
  });
});

// Production shape: separate server and worker processes on Postgres and Redis.
const production = process.env.TEST_DATABASE_URL && redisUrl ? [redisUrl] : [];

describe.each(production)('`main.ts server` + `workers/src/main.ts` on Postgres and Redis (%s)', (baseRedisUrl) => {
  let testDb: TestDatabase;
  let isolatedRedisUrl: string;
  beforeAll(async () => {
    testDb = await createTestDatabase('postgres', { empty: true });
    // The processes use Enclave's fixed queue prefix, so give them a Redis database of their own.
    const url = new URL(baseRedisUrl);
    url.pathname = `/${1 + Math.floor(Math.random() * 15)}`;
    isolatedRedisUrl = url.toString();
    await deleteKeys(isolatedRedisUrl, 'enclave');
  });
  afterAll(async () => {
    await testDb?.dispose();
    if (isolatedRedisUrl) await deleteKeys(isolatedRedisUrl, 'enclave');
  });

  it('both start on an empty database, the worker runs what the server enqueues, and both stop on SIGTERM', async () => {
    const startedAt = Date.now();
    const env = childEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: await tmpDir('prod'),
      LOG_LEVEL: 'info',
      DATABASE_URL: testDb.url!,
      REDIS_URL: isolatedRedisUrl,
      SESSION_SECRET: 'a-test-session-secret-of-at-least-32-chars',
    });
    // Started together on an empty database: both migrate, serialised by the migration lock.
    const metricsPort = 20_000 + Math.floor(Math.random() * 20_000);
    const serverMetricsPort = metricsPort + 1;
    const metricsToken = 'scraper-token-0123456789';
    env.METRICS_TOKEN = metricsToken;
    const server = spawnTs('server/src/main.ts', ['server'], {
      env: { ...env, METRICS_PORT: String(serverMetricsPort) },
    });
    const worker = spawnTs('workers/src/main.ts', [], { env: { ...env, WORKER_METRICS_PORT: String(metricsPort) } });

    const url = await ready(server);
    const res = await readyz(url);
    expect(res.status).toBe(200);
    expect(res.body.checks).toEqual({ database: 'ok', queue: 'ok', realtime: 'ok' });
    expect(server.logs().find((l) => l.msg === 'Enclave is ready')).toMatchObject({
      database: 'postgres',
      jobs: 'bullmq',
      realtime: 'redis',
    });
    expect(await worker.waitForLog((l) => l.msg === 'worker ready', 60_000)).toMatchObject({ database: 'postgres' });

    // The server enqueued this hour's housekeeping at start; only the worker process runs jobs.
    const connection = new Redis(isolatedRedisUrl, { maxRetriesPerRequest: 3 });
    const queue = new Queue('purge-sessions', { connection, prefix: 'enclave' });
    try {
      const period = Math.floor(startedAt / 3_600_000);
      const deadline = Date.now() + 20_000;
      let finishedOn: number | undefined;
      while (!finishedOn && Date.now() < deadline) {
        const jobs = await Promise.all([period, period + 1].map((p) => queue.getJob(`purge-sessions-${p}`)));
        finishedOn = jobs.find((j) => j?.finishedOn && !j.failedReason)?.finishedOn;
        if (!finishedOn) await new Promise((r) => setTimeout(r, 100));
      }
      expect(finishedOn, 'purge-sessions job completed by the worker').toBeGreaterThanOrEqual(startedAt);
      // The worker's own metrics show the job it ran, to a scraper with the token only.
      const scrape = (port: number, token?: string) =>
        fetch(`http://127.0.0.1:${port}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      expect((await scrape(metricsPort)).status).toBe(401);
      expect((await scrape(metricsPort, 'scraper-token-wrong-guess')).status).toBe(401);
      const metrics = await (await scrape(metricsPort, metricsToken)).text();
      expect(metrics).toMatch(/enclave_jobs_total\{name="purge-sessions",outcome="completed"\} [1-9]/);
      // The server's /metrics moved to METRICS_PORT: users' port has none; the scrape port wants the token.
      expect((await request(url, 'GET', '/metrics')).status).toBe(404);
      expect((await scrape(serverMetricsPort)).status).toBe(401);
      const serverMetrics = await scrape(serverMetricsPort, metricsToken);
      expect(serverMetrics.status).toBe(200);
      expect(await serverMetrics.text()).toMatch(/^enclave_build_info\{/m);
    } finally {
      await queue.close();
      await connection.quit();
    }

    const [serverExit, workerExit] = await Promise.all([server.stop(15_000), worker.stop(15_000)]);
    expect(serverExit).toEqual({ code: 0, signal: null });
    expect(workerExit).toEqual({ code: 0, signal: null });

    const { rows } = await testDb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE role = 'admin'`);
    expect(rows[0]!.n).toBe(1);
  }, 90_000);
});
