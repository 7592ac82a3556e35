import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../server/src/core/audit/audit.service.ts';
import { storageKeyOf } from '../../server/src/core/knowledge/document.repository.ts';
import { createFileStorage } from '../../server/src/core/storage/stored-files.ts';
import { createKnowledgeService } from '../../server/src/core/knowledge/knowledge.service.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/wait.ts';
import { chunksOf, filesUnder, newCollection, search, settled } from './helpers.ts';

type Item = { title: string; text: string } | { question: string; answer: string };

const bulk = (app: TestApp, token: string, collectionId: string, documents: Item[]) =>
  request(app.url, 'POST', `/api/collections/${collectionId}/documents/bulk`, { token, body: { documents } });

async function documentCount(app: TestApp, collectionId: string): Promise<number> {
  const { rows } = await app.services.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM documents WHERE collection_id = $1',
    [collectionId],
  );
  return rows[0]!.n;
}

/** Every document of the collection ready or failed; their statuses by title. */
async function allSettled(
  app: TestApp,
  collectionId: string,
  timeoutMs = 60_000,
): Promise<Map<string, { status: string; error: string | null; chunk_count: number }>> {
  return until(
    async () => {
      const { rows } = await app.services.db.query<{
        title: string;
        status: string;
        error: string | null;
        chunk_count: number;
      }>('SELECT title, status, error, chunk_count FROM documents WHERE collection_id = $1', [collectionId]);
      return rows.every((r) => r.status === 'ready' || r.status === 'failed')
        ? new Map(rows.map((r) => [r.title, r]))
        : undefined;
    },
    'every document to finish ingesting',
    timeoutMs,
  );
}

const faqs: Item[] = [
  { question: 'How do I reset my VPN token?', answer: 'Open the self-service portal and choose "Reset token".' },
  { question: '年假有多少天？', answer: '正式员工每年享有十五天带薪年假。' },
  { title: 'Printer guide', text: '## Printers\n\nEvery floor has a colour printer next to the kitchen.' },
  { question: '报销需要哪些材料？', answer: '需要发票原件和审批单。' },
];

describe.each(backends)('bulk import on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  it('adds texts and FAQ entries in one request, in order, each audited, and indexes them all', async () => {
    const collectionId = await newCollection(app, admin.token, { name: 'FAQ import' });
    const existing = await bulk(app, admin.token, collectionId, [faqs[0]!]);
    expect(existing.status).toBe(202);
    const many: Item[] = Array.from({ length: 60 }, (_, i) => ({
      question: `Question number ${i}: where is room ${i}?`,
      answer: `Room ${i} is on floor ${i % 7}.`,
    }));
    // The first entry is already in the collection; the last repeats the second within the request.
    const res = await bulk(app, admin.token, collectionId, [...faqs, ...many, faqs[1]!]);
    expect(res.status).toBe(202);
    expect(res.body.items).toHaveLength(65);
    expect(res.body.items.map((i: { document: { title: string } }) => i.document.title).slice(0, 4)).toEqual([
      'How do I reset my VPN token?',
      '年假有多少天？',
      'Printer guide',
      '报销需要哪些材料？',
    ]);
    expect(res.body.items.map((i: { duplicate: boolean }) => i.duplicate).filter(Boolean)).toHaveLength(2);
    expect(res.body.items[0]).toMatchObject({ duplicate: true, document: { id: existing.body.items[0].document.id } });
    expect(res.body.items[64]).toMatchObject({ duplicate: true, document: { id: res.body.items[1].document.id } });
    expect(res.body.items[2].document).toMatchObject({ source: 'text', status: 'queued' });
    expect(res.body.items[1].document).toMatchObject({ source: 'faq', status: 'queued' });
    expect(await documentCount(app, collectionId)).toBe(1 + 63);

    const docs = await allSettled(app, collectionId);
    expect([...docs.values()].filter((d) => d.status !== 'ready')).toEqual([]);
    expect([...docs.values()].every((d) => d.chunk_count === 1)).toBe(true);
    const chunks = await chunksOf(app, admin.token, res.body.items[1].document.id);
    expect(chunks).toEqual([
      expect.objectContaining({ kind: 'faq', text: '年假有多少天？\n正式员工每年享有十五天带薪年假。' }),
    ]);
    expect((await search(app, admin.token, '年假几天'))[0]).toMatchObject({
      documentId: res.body.items[1].document.id,
    });
    expect((await search(app, admin.token, 'where is room 42'))[0]).toMatchObject({
      title: 'Question number 42: where is room 42?',
    });

    const audit = await app.services.db.query<{ target_id: string }>(
      `SELECT target_id FROM audit_log WHERE action = 'document.created' AND details->>'collectionId' = $1 ORDER BY id`,
      [collectionId],
    );
    // One record per new document (duplicates add nothing), in the order they were sent.
    const created = res.body.items
      .filter((i: { duplicate: boolean }) => !i.duplicate)
      .map((i: { document: { id: string } }) => i.document.id);
    expect(audit.rows.map((r) => r.target_id)).toEqual([existing.body.items[0].document.id, ...created]);
    expect((await verifyAuditChain(app.services.db)).ok).toBe(true);
  }, 120_000);

  it('pages through every document of an import: one transaction, one timestamp, no row skipped', async () => {
    const collectionId = await newCollection(app, admin.token, { name: `Paged ${Date.now()}` });
    const entries = Array.from({ length: 12 }, (_, i) => ({ title: `Paged ${i}`, text: `Paged entry number ${i}.` }));
    expect((await bulk(app, admin.token, collectionId, entries)).status).toBe(202);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const query = `limit=5${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await request(app.url, 'GET', `/api/collections/${collectionId}/documents?${query}`, {
        token: admin.token,
      });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((d: { title: string }) => d.title));
      cursor = page.body.next ?? undefined;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual(entries.map((e) => e.title).sort());
  });

  it('answers 200 when every entry is already there, and adds nothing', async () => {
    const collectionId = await newCollection(app, admin.token, { name: 'Twice' });
    expect((await bulk(app, admin.token, collectionId, faqs)).status).toBe(202);
    const again = await bulk(app, admin.token, collectionId, faqs);
    expect(again.status).toBe(200);
    expect(again.body.items.every((i: { duplicate: boolean }) => i.duplicate)).toBe(true);
    expect(await documentCount(app, collectionId)).toBe(faqs.length);
  });

  it('refuses a request with one bad entry as a whole: nothing added, no file left behind', async () => {
    const collectionId = await newCollection(app, admin.token, { name: 'Refused' });
    const filesBefore = await filesUnder(path.join(app.services.config.dataDir, 'files'));
    const bad = await bulk(app, admin.token, collectionId, [
      faqs[0]!,
      { question: 'No answer', answer: '   ' },
      faqs[1]!,
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_input');
    expect(bad.body.error.message).toContain('documents.1');
    const tooMany = await bulk(
      app,
      admin.token,
      collectionId,
      Array.from({ length: 501 }, (_, i) => ({ title: `t${i}`, text: `text ${i}` })),
    );
    expect(tooMany.status).toBe(400);
    expect((await bulk(app, admin.token, collectionId, [])).status).toBe(400);
    const url = await request(app.url, 'POST', `/api/collections/${collectionId}/documents/bulk`, {
      token: admin.token,
      body: { documents: [{ url: 'https://example.com' }] },
    });
    expect(url.status).toBe(400);
    expect(await documentCount(app, collectionId)).toBe(0);
    expect(await filesUnder(path.join(app.services.config.dataDir, 'files'))).toEqual(filesBefore);
  });

  it('is for admins only, and only into a collection they can read', async () => {
    const collectionId = await newCollection(app, admin.token, { name: 'Admins only' });
    const user = await newUser(app, { role: 'agent' });
    expect((await bulk(app, user.token, collectionId, faqs)).status).toBe(403);
    expect((await bulk(app, admin.token, '00000000-0000-4000-8000-000000000000', faqs)).status).toBe(404);
    expect(await documentCount(app, collectionId)).toBe(0);
  });
});

describe.each(backends)('bulk import storage on %s', (backend) => {
  let app: TestApp;
  afterAll(() => app?.close());

  it('leaves no file behind when storage fails part-way through an import (a full disk)', async () => {
    app = await startTestApp(backend, { processJobs: false });
    const admin = await newUser(app, { role: 'admin' });
    const collectionId = await newCollection(app, admin.token);
    const files = createFileStorage(app.services.config);
    let puts = 0;
    const knowledge = createKnowledgeService({
      db: app.services.db,
      outbox: app.services.outbox,
      bus: app.services.bus,
      maxUploadBytes: app.services.config.knowledge.maxUploadBytes,
      // The 20th original cannot be written; the other 19 of its group (16 at a time) already were.
      storage: {
        ...files,
        put: (key, data, options) =>
          ++puts === 20 ? Promise.reject(new Error('ENOSPC: no space left on device')) : files.put(key, data, options),
      },
    });
    const actor = (await app.domain.auth.authenticate(admin.token))!;
    const sources = Array.from({ length: 40 }, (_, i) => ({
      kind: 'faq' as const,
      question: `Question ${i}?`,
      answer: `Answer ${i}.`,
    }));
    await expect(knowledge.addSources(actor, collectionId, sources, { ip: '127.0.0.1' })).rejects.toThrow('ENOSPC');
    expect(puts).toBeGreaterThanOrEqual(20);
    expect(await filesUnder(path.join(app.services.config.dataDir, 'files'))).toEqual([]);
    expect(await documentCount(app, collectionId)).toBe(0);
  });
});

describe.each(backends)('bulk import indexing on %s', (backend) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('fails only the entry that cannot be indexed; the rest of its batch is indexed', async () => {
    app = await startTestApp(backend, { processJobs: false });
    const admin = await newUser(app, { role: 'admin' });
    const collectionId = await newCollection(app, admin.token);
    const res = await bulk(app, admin.token, collectionId, faqs);
    expect(res.status).toBe(202);
    // The stored original of the second entry goes missing before any worker reads it.
    await rm(path.join(app.services.config.dataDir, 'files', storageKeyOf(res.body.items[1].document.id)));
    await app.services.jobs.startProcessing();
    const docs = await allSettled(app, collectionId);
    expect(docs.get('年假有多少天？')).toMatchObject({
      status: 'failed',
      error: 'The original file is missing from storage',
    });
    expect(
      [...docs.entries()]
        .filter(([, d]) => d.status === 'ready')
        .map(([title]) => title)
        .sort(),
    ).toEqual(['How do I reset my VPN token?', 'Printer guide', '报销需要哪些材料？'].sort());
  });
});

/** An OpenAI-protocol embeddings server on loopback: deterministic vectors, down (503) while `down` is set. */
async function startEmbeddings(dimensions: number) {
  const state = { down: false, requests: 0, inputs: [] as number[] };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    res.setHeader('content-type', 'application/json');
    if (state.down) {
      res.statusCode = 503;
      res.end(JSON.stringify({ error: { message: 'embeddings are down', type: 'server_error', code: null } }));
      return;
    }
    const { input } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string[] };
    state.requests += 1;
    state.inputs.push(input.length);
    const vector = (text: string) =>
      Array.from(
        { length: dimensions },
        (_, i) => Math.sin(text.length * (i + 1)) + (text.charCodeAt(i % text.length) % 7) / 10,
      );
    res.end(
      JSON.stringify({
        object: 'list',
        model: 'fake-embed',
        data: input.map((t, index) => ({ object: 'embedding', index, embedding: vector(t) })),
        usage: { prompt_tokens: 0, total_tokens: 0 },
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    state,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe.runIf(backends.includes('postgres') && process.env.REDIS_URL)(
  'bulk import with BullMQ and a remote embedder',
  () => {
    const redisUrl = process.env.REDIS_URL!;
    const prefix = uniquePrefix('bulk');
    let app: TestApp;
    let embeddings: Awaited<ReturnType<typeof startEmbeddings>>;
    let admin: TestUser;

    beforeAll(async () => {
      embeddings = await startEmbeddings(64);
      app = await startTestApp('postgres', {
        redisUrl,
        env: {
          REDIS_PREFIX: prefix,
          EMBEDDING_MODEL: 'fake-embed',
          EMBEDDING_BASE_URL: embeddings.url,
          EMBEDDING_DIMENSIONS: '64',
        },
      });
      admin = await newUser(app, { role: 'admin' });
    });
    afterAll(async () => {
      await app?.close();
      await embeddings?.close();
      await deleteKeys(redisUrl, prefix);
    });

    it('embeds the entries of a batch together: far fewer embedding requests than documents', async () => {
      const collectionId = await newCollection(app, admin.token);
      const items: Item[] = Array.from({ length: 50 }, (_, i) => ({
        question: `Where is meeting room ${i}?`,
        answer: `On floor ${i}.`,
      }));
      const before = embeddings.state.requests;
      expect((await bulk(app, admin.token, collectionId, items)).status).toBe(202);
      const docs = await allSettled(app, collectionId);
      expect([...docs.values()].filter((d) => d.status !== 'ready')).toEqual([]);
      // 50 entries = two jobs of 25, each one embedding request.
      expect(embeddings.state.requests - before).toBe(2);
      expect(embeddings.state.inputs.slice(-2)).toEqual([25, 25]);
    });

    it('keeps an import through an embedder outage: retried, indexed once, nothing lost', async () => {
      const collectionId = await newCollection(app, admin.token);
      embeddings.state.down = true;
      const res = await bulk(app, admin.token, collectionId, faqs);
      expect(res.status).toBe(202);
      const waiting = await until(
        async () => {
          const { rows } = await app.services.db.query<{ status: string; error: string | null }>(
            'SELECT status, error FROM documents WHERE collection_id = $1',
            [collectionId],
          );
          return rows.length === faqs.length &&
            rows.every((r) => r.status === 'queued' && r.error?.endsWith('(will retry)'))
            ? rows
            : undefined;
        },
        'the batch to wait for a retry',
        30_000,
      );
      expect(waiting).toHaveLength(faqs.length);
      embeddings.state.down = false;
      const docs = await allSettled(app, collectionId, 60_000);
      expect([...docs.values()].map((d) => [d.status, d.error, d.chunk_count])).toEqual(
        faqs.map(() => ['ready', null, 1]),
      );
      const { rows } = await app.services.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.collection_id = $1',
        [collectionId],
      );
      expect(rows[0]!.n).toBe(faqs.length);
      expect(await settled(app, admin.token, res.body.items[0].document.id)).toMatchObject({ status: 'ready' });
    }, 60_000);
  },
);
