import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobProcessors } from '../../server/src/composition.ts';
import { createJobRunner } from '../../server/src/core/jobs/create-runner.ts';
import { jobOptions, type JobMap } from '../../server/src/core/jobs/job-map.ts';
import type { JobRunner } from '../../server/src/core/jobs/job-types.ts';
import { schedulerIdOf } from '../../server/src/core/knowledge/sources/schedule.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends, type Backend } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/wait.ts';
import { newCollection, settled } from './helpers.ts';

/** Both job runners: in-process on every backend; BullMQ (with Redis) on Postgres, as two workers share one database. */
const runners: { backend: Backend; redis: boolean }[] = [
  ...backends.map((backend) => ({ backend, redis: false })),
  ...(process.env.REDIS_URL && backends.includes('postgres') ? [{ backend: 'postgres' as const, redis: true }] : []),
];

describe.each(runners)('scheduled refresh on $backend (BullMQ: $redis)', ({ backend, redis }) => {
  let app: TestApp;
  let admin: TestUser;
  let page: Server;
  let base: string;
  let fetches = 0;
  let second: JobRunner<JobMap>;
  const prefix = uniquePrefix('schedule');
  const secondRan: number[] = [];

  beforeAll(async () => {
    page = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Menu</title><p>Soup of the day: leek.</p>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    app = await startTestApp(backend, {
      env: { URL_IMPORT_ALLOW_PRIVATE: 'loopback', REDIS_PREFIX: prefix },
      ...(redis ? { redisUrl: process.env.REDIS_URL! } : {}),
    });
    admin = await newUser(app, { role: 'admin' });
    // A second worker over the same database (and, with BullMQ, the same queues) holding the same schedule.
    second = createJobRunner<JobMap>({
      ...(redis ? { redisUrl: process.env.REDIS_URL!, prefix } : {}),
      jobs: jobOptions,
      processors: jobProcessors(app.services, app.domain),
      onEvent: (event) => {
        if (event.name === 'refresh-source' && event.state === 'completed') secondRan.push(Date.now());
      },
    });
    await second.startProcessing();
  });
  afterAll(async () => {
    await second?.close(2000);
    await app?.close();
    page?.closeAllConnections();
    await new Promise((resolve) => page?.close(resolve));
    if (redis) await deleteKeys(process.env.REDIS_URL!, prefix);
  });

  it('an admin sets a schedule; each tick refreshes once however many workers hold it', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Menu' });
    const imported = await request(app.url, 'POST', `/api/collections/${collection}/documents`, {
      token: admin.token,
      body: { url: `${base}/menu.html` },
    });
    const doc = await settled(app, admin.token, imported.body.document.id);

    const bad = await request(app.url, 'PATCH', `/api/sources/${doc.sourceId}`, {
      token: admin.token,
      body: { schedule: '61 * * * *' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('bad_schedule');
    const set = await request(app.url, 'PATCH', `/api/sources/${doc.sourceId}`, {
      token: admin.token,
      body: { schedule: 'hourly' },
    });
    expect(set.status).toBe(200);
    expect(set.body.source.schedule).toBe('hourly');
    const next = new Date(set.body.source.nextRefreshAt);
    expect(next.getUTCMinutes()).toBe(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);

    // The hourly schedule replaced by a fast one, held by both workers (an hour is too long to wait for).
    const fast = { everyMs: 700 };
    const payload = { sourceId: doc.sourceId, trigger: 'schedule' as const, request: 'schedule' };
    const fetchesBefore = fetches;
    await app.services.jobs.schedule('refresh-source', schedulerIdOf(doc.sourceId), fast, payload);
    await second.schedule('refresh-source', schedulerIdOf(doc.sourceId), fast, payload);
    const runs = await until(
      async () => {
        const { rows } = await app.services.db.query<{ tick: string; status: string }>(
          `SELECT tick::text AS tick, status FROM source_runs WHERE source_id = $1 AND trigger = 'schedule' AND finished_at IS NOT NULL`,
          [doc.sourceId],
        );
        return rows.length >= 4 ? rows : undefined;
      },
      'four scheduled runs',
      30_000,
    );
    await app.services.jobs.unschedule('refresh-source', schedulerIdOf(doc.sourceId));
    await second.unschedule('refresh-source', schedulerIdOf(doc.sourceId));

    expect(new Set(runs.map((r) => r.tick)).size).toBe(runs.length);
    expect(runs.every((r) => r.status === 'ok')).toBe(true);
    // One fetch per run, not one per worker (counted once the last jobs have run).
    await until(async () => {
      const { rows } = await app.services.db.query<{ n: number; running: number }>(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE finished_at IS NULL)::int AS running
           FROM source_runs WHERE source_id = $1 AND trigger = 'schedule'`,
        [doc.sourceId],
      );
      return rows[0]!.running === 0 && fetches - fetchesBefore === rows[0]!.n;
    }, 'one fetch per scheduled run');
    // The second worker did take part (in-process, each worker holds its own timer for every tick).
    expect(secondRan.length).toBeGreaterThan(0);
  });
});
