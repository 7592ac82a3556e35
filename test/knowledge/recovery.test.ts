import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobProcessors } from '../../server/src/composition.ts';
import { createJobRunner } from '../../server/src/core/jobs/create-runner.ts';
import { jobOptions, type JobMap } from '../../server/src/core/jobs/job-map.ts';
import { requeueAllDocuments } from '../../server/src/core/knowledge/document.repository.ts';
import { resumePendingIngestion } from '../../server/src/core/knowledge/knowledge.module.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/wait.ts';
import { addText, newCollection, search } from './helpers.ts';

describe.each(backends)('ingestion after a crash, embedded runner, on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  it('re-enqueues documents left queued or processing at start, and indexes them once', async () => {
    const collection = await newCollection(app, admin.token);
    const doc = await addText(
      app,
      admin.token,
      collection,
      'Crash manual',
      'Restart safety: the pipeline resumes interrupted work.',
    );
    // The state a crash leaves: processing, half-done (no chunks of this version yet), and the
    // in-memory job gone with the process.
    await app.services.db.query(
      `UPDATE documents SET status = 'processing', progress = 0.4, indexed_version = 0, chunk_count = 0 WHERE id = $1`,
      [doc.id],
    );
    await app.services.db.query('DELETE FROM chunks WHERE document_id = $1', [doc.id]);

    // A fresh process's runner over the same database.
    const runner = createJobRunner<JobMap>({ jobs: jobOptions, processors: jobProcessors(app.services, app.domain) });
    try {
      expect(await resumePendingIngestion(app.services.db, runner)).toBe(1);
      // A second call (two processes starting together) is the same job.
      await resumePendingIngestion(app.services.db, runner);
      expect((await runner.counts('ingest-document')).waiting).toBe(1);
      await runner.startProcessing();
      const ready = await until(async () => {
        const res = await request(app.url, 'GET', `/api/documents/${doc.id}`, { token: admin.token });
        return res.body.document.status === 'ready' ? res.body.document : undefined;
      }, 'the resumed document to be ready');
      expect(ready.chunkCount).toBe(1);
      const { rows } = await app.services.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM chunks WHERE document_id = $1',
        [doc.id],
      );
      expect(rows[0]!.n).toBe(1);
      expect((await search(app, admin.token, 'pipeline resumes interrupted work'))[0]!.documentId).toBe(doc.id);
    } finally {
      await runner.close(2000);
    }
  });
});

describe.each([
  ...backends.map((backend) => ({ backend, redis: false })),
  ...(backends.includes('postgres') && process.env.REDIS_URL ? [{ backend: 'postgres' as const, redis: true }] : []),
])('a bulk import after a restart, on $backend (BullMQ: $redis)', ({ backend, redis }) => {
  const prefix = uniquePrefix('resume');
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    // Jobs are enqueued but this process never runs them: the state a crash (in-process) or a
    // restart with the jobs still in Redis (BullMQ) leaves.
    app = await startTestApp(backend, {
      processJobs: false,
      ...(redis ? { redisUrl: process.env.REDIS_URL!, env: { REDIS_PREFIX: prefix } } : {}),
    });
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(async () => {
    await app?.close();
    if (redis) await deleteKeys(process.env.REDIS_URL!, prefix);
  });

  it('resumes its documents as the same batch jobs — none twice, none one by one — and indexes each once', async () => {
    const collection = await newCollection(app, admin.token);
    const entries = Array.from({ length: 30 }, (_, i) => ({
      question: `Which floor is office ${i} on?`,
      answer: `Floor ${i % 9}.`,
    }));
    expect(
      (
        await request(app.url, 'POST', `/api/collections/${collection}/documents/bulk`, {
          token: admin.token,
          body: { documents: entries },
        })
      ).status,
    ).toBe(202);

    const runner = createJobRunner<JobMap>({
      jobs: jobOptions,
      processors: jobProcessors(app.services, app.domain),
      ...(redis ? { redisUrl: process.env.REDIS_URL!, prefix } : {}),
    });
    try {
      expect(await resumePendingIngestion(app.services.db, runner)).toBe(30);
      await resumePendingIngestion(app.services.db, runner);
      // 25 + 5: under BullMQ the two jobs the import enqueued, not new ones.
      expect((await runner.counts('ingest-batch')).waiting).toBe(2);
      expect((await runner.counts('ingest-document')).waiting).toBe(0);
      await runner.startProcessing();
      await until(async () => {
        const { rows } = await app.services.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM documents WHERE collection_id = $1 AND status = 'ready'`,
          [collection],
        );
        return rows[0]!.n === 30 ? true : undefined;
      }, 'the resumed import to be ready');
      const { rows } = await app.services.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.collection_id = $1',
        [collection],
      );
      expect(rows[0]!.n).toBe(30);

      // A re-embed queues every document at a new version: the same batches, new jobs (BullMQ still
      // keeps the finished ones under their old ids).
      await requeueAllDocuments(app.services.db);
      expect(await resumePendingIngestion(app.services.db, runner)).toBe(30);
      await until(async () => {
        const { rows: done } = await app.services.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM documents WHERE collection_id = $1 AND status = 'ready' AND indexed_version = 2`,
          [collection],
        );
        return done[0]!.n === 30 ? true : undefined;
      }, 'the re-queued import to be indexed at version 2');
    } finally {
      await runner.close(2000);
    }
  });
});
