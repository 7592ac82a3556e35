import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/core/logger.ts';
import type { Actor } from '../../server/src/core/policy/actor.ts';
import { jobOptions } from '../../server/src/core/jobs/job-map.ts';
import { createUserRepository } from '../../server/src/core/users/user.repository.ts';
import { compose, type Composition } from '../../server/src/composition.ts';
import type { Domain } from '../../server/src/domain.ts';
import type { Services } from '../../server/src/services.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';
import { until } from '../support/wait.ts';

/**
 * A BullMQ worker process killed (SIGKILL) in the middle of ingesting a document: another worker
 * takes the job over when the lock expires and the document ends ready with exactly one set of
 * chunks. Needs Redis and a Postgres both processes share (PGlite lives inside one process).
 */
const shared = redisUrl && process.env.TEST_DATABASE_URL ? [redisUrl] : [];

describe('ingest job identity', () => {
  it('derives the job id from document id and version, with no ":" (BullMQ refuses it)', () => {
    const id = jobOptions['ingest-document'].jobId({ documentId: '0b6f3c1e-8f0a-4c57-9d1e-2a3b4c5d6e7f', version: 3 });
    expect(id).toBe('ingest-0b6f3c1e-8f0a-4c57-9d1e-2a3b4c5d6e7f-v3');
    expect(id).not.toContain(':');
    // A retry or a duplicate add of the same version is the same job; a re-index is a new one.
    expect(jobOptions['ingest-document'].jobId({ documentId: 'd', version: 1 })).toBe(
      jobOptions['ingest-document'].jobId({ documentId: 'd', version: 1 }),
    );
    expect(jobOptions['ingest-document'].jobId({ documentId: 'd', version: 2 })).not.toBe(
      jobOptions['ingest-document'].jobId({ documentId: 'd', version: 1 }),
    );
  });
});

describe.each(shared)('an ingest worker killed mid-document (BullMQ at %s)', (url) => {
  const prefix = uniquePrefix('ingest');
  let testDb: TestDatabase;
  let dataDir: string;
  let composition: Composition;
  let services: Services;
  let domain: Domain;
  let actor: Actor;

  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-ingest-crash-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      REDIS_URL: url,
      REDIS_PREFIX: prefix,
    });
    // This process only enqueues (no startProcessing): the spawned workers do the work.
    const secret = 'test-secret-test-secret-test-secret-00';
    composition = await compose(config, createLogger('silent'), { db: testDb.db, secret });
    ({ services, domain } = composition);
    const user = await createUserRepository(testDb.db).insert({
      email: 'crash-admin@example.test',
      name: 'Admin',
      passwordHash: null,
      role: 'admin',
    });
    actor = {
      id: user.id,
      email: user.email,
      name: user.name,
      role: 'admin',
      credential: { kind: 'session', id: 'test' },
    };
  });
  afterEach(killAllChildren);
  afterAll(async () => {
    await composition?.close(2000).catch(() => {});
    await testDb?.dispose();
    await deleteKeys(url, prefix);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const worker = (slowMs: number) =>
    spawnTs('test/knowledge/ingest-worker.ts', [], {
      env: childEnv({
        DATABASE_URL: testDb.url!,
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        SLOW_EMBED_MS: String(slowMs),
      }),
    });

  it('finishes on the next worker with no duplicate chunks', async () => {
    const paragraphs = Array.from(
      { length: 40 },
      (_, i) => `Section ${i}. ${`Paragraph ${i} explains procedure number ${i} in detail. `.repeat(40)}`,
    );
    const collection = await domain.knowledge.createCollection(actor, { name: 'Crash' }, { ip: '127.0.0.1' });
    const { document } = await domain.knowledge.addSource(
      actor,
      collection.id,
      { kind: 'text', title: 'Long manual', text: paragraphs.join('\n\n') },
      { ip: '127.0.0.1' },
    );
    // A duplicate add and a duplicate enqueue are the same job.
    expect(
      (
        await domain.knowledge.addSource(
          actor,
          collection.id,
          { kind: 'text', title: 'Again', text: paragraphs.join('\n\n') },
          { ip: '127.0.0.1' },
        )
      ).duplicate,
    ).toBe(true);
    await services.jobs.enqueue('ingest-document', { documentId: document.id, version: 1 });
    expect(await services.jobs.counts('ingest-document')).toMatchObject({ waiting: 1 });

    const first = worker(400);
    await first.waitForOutput(/^batch 3$/m, 30_000);
    const mid = await domain.knowledge.getDocument(document.id);
    expect(mid.status).toBe('processing');
    expect(mid.progress).toBeGreaterThan(0);
    await first.kill();

    const second = worker(0);
    await second.waitForOutput(/^ready$/m, 30_000);
    const done = await until(
      async () => {
        const d = await domain.knowledge.getDocument(document.id);
        return d.status === 'ready' || d.status === 'failed' ? d : undefined;
      },
      'the document to be finished by the second worker',
      45_000,
      100,
    );
    expect(done).toMatchObject({ status: 'ready', version: 1, indexed_version: 1, error: null });
    const { rows } = await testDb.db.query<{ n: number; ords: number; texts: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT ord)::int AS ords, count(DISTINCT text)::int AS texts FROM chunks WHERE document_id = $1',
      [document.id],
    );
    expect(rows[0]!.n).toBeGreaterThan(10);
    expect(rows[0]).toEqual({ n: done.chunk_count, ords: done.chunk_count, texts: done.chunk_count });
    expect(second.stdout()).toMatch(/batch \d+/);
    await second.stop();
  }, 120_000);
});
