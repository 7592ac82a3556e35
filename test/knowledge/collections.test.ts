import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { addText, newCollection, search, settled, upload } from './helpers.ts';

describe.each(backends)('collections on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  it('creates, renames, lists with paging, and validates groups', async () => {
    const created = await request(app.url, 'POST', '/api/collections', {
      token: admin.token,
      body: { name: 'Policies', description: 'All policies' },
    });
    expect(created.status).toBe(201);
    expect(created.body.collection).toMatchObject({
      name: 'Policies',
      description: 'All policies',
      groups: [],
      documentCount: 0,
    });
    const id = created.body.collection.id;
    const renamed = await request(app.url, 'PATCH', `/api/collections/${id}`, {
      token: admin.token,
      body: { name: 'Company policies' },
    });
    expect(renamed.body.collection).toMatchObject({ name: 'Company policies', description: 'All policies' });
    const bad = await request(app.url, 'PATCH', `/api/collections/${id}`, {
      token: admin.token,
      body: { groups: ['00000000-0000-4000-8000-000000000000'] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('unknown_group');
    for (let i = 0; i < 3; i++) await newCollection(app, admin.token, { name: `Extra ${i}` });
    const first = await request(app.url, 'GET', '/api/collections?limit=2', { token: admin.token });
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await request(app.url, 'GET', `/api/collections?limit=2&cursor=${first.body.next}`, {
      token: admin.token,
    });
    const seen = [...first.body.items, ...second.body.items].map((c: { id: string }) => c.id);
    expect(new Set(seen).size).toBe(4);
  });

  it('answers a cursor it did not make with a 400 on every knowledge list, never a 500', async () => {
    const id = await newCollection(app, admin.token, { name: 'Cursors' });
    const doc = await addText(app, admin.token, id, 'Cursor manual', 'Keyset paging keeps its place.');
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    const uuid = '00000000-0000-4000-8000-000000000000';
    const firstPage = await request(app.url, 'GET', '/api/collections?limit=1', { token: admin.token });
    const collectionsNext = firstPage.body.next;
    const lists = ['/api/collections', `/api/collections/${id}/documents`, `/api/documents/${doc.id}/chunks`];
    const foreign = [
      'garbage!',
      b64(`1|${uuid}`),
      b64(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`),
      b64(JSON.stringify(['0000-01-01T00:00:00Z', uuid])),
      b64(JSON.stringify([2 ** 40])),
      b64('["\\u0000"]'),
    ];
    for (const path of lists) {
      for (const cursor of [...foreign, ...(path === lists[2] ? [collectionsNext] : [])]) {
        const res = await request(app.url, 'GET', `${path}?cursor=${cursor}`, { token: admin.token });
        expect(res.status, `${path} ${cursor}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/cursor/i) });
      }
    }
    // Out of the way of the searches below.
    expect((await request(app.url, 'DELETE', `/api/collections/${id}`, { token: admin.token })).status).toBe(204);
  });

  it('deletes a collection with its documents, chunks and files, at once and audited', async () => {
    const id = await newCollection(app, admin.token, { name: 'Doomed' });
    const doc = await addText(app, admin.token, id, 'Aardvark', 'Aardvarks eat termites at night.');
    const file = await upload(
      app,
      admin.token,
      id,
      'aardvark.md',
      Buffer.from('# Aardvark diet\n\nTermites and ants.'),
    );
    await settled(app, admin.token, file.body.document.id);
    expect((await search(app, admin.token, 'aardvark termites')).length).toBeGreaterThan(0);
    const filesDir = path.join(app.services.config.dataDir, 'files', 'documents');
    expect(await readdir(filesDir)).toEqual(expect.arrayContaining([doc.id, file.body.document.id]));

    expect((await request(app.url, 'DELETE', `/api/collections/${id}`, { token: admin.token })).status).toBe(204);
    expect(await search(app, admin.token, 'aardvark termites')).toEqual([]);
    expect((await request(app.url, 'GET', `/api/collections/${id}`, { token: admin.token })).status).toBe(404);
    expect((await request(app.url, 'GET', `/api/documents/${doc.id}`, { token: admin.token })).status).toBe(404);
    const { rows } = await app.services.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM chunks WHERE collection_id = $1',
      [id],
    );
    expect(rows[0]!.n).toBe(0);
    // Files and the directories they leave empty are gone.
    const left = await readdir(filesDir).catch(() => [] as string[]);
    expect(left).not.toContain(doc.id);
    expect(left).not.toContain(file.body.document.id);
    const audit = await app.services.db.query<{ action: string; details: { name: string; documents: number } }>(
      `SELECT action, details FROM audit_log WHERE target_id = $1 ORDER BY id`,
      [id],
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['collection.created', 'collection.deleted']);
    expect(audit.rows[1]!.details).toEqual({ name: 'Doomed', documents: 2 });
  });

  it('pages documents and chunks', async () => {
    const id = await newCollection(app, admin.token, { name: 'Paged' });
    const long = Array.from(
      { length: 12 },
      (_, i) => `## Part ${i}\n\n${`Part ${i} covers topic ${i}. `.repeat(60)}`,
    ).join('\n\n');
    const doc = await addText(app, admin.token, id, 'Manual', long);
    expect(doc.chunkCount).toBeGreaterThan(4);
    const page1 = await request(app.url, 'GET', `/api/documents/${doc.id}/chunks?limit=3`, { token: admin.token });
    expect(page1.body.items.map((c: { ord: number }) => c.ord)).toEqual([0, 1, 2]);
    const page2 = await request(app.url, 'GET', `/api/documents/${doc.id}/chunks?limit=3&cursor=${page1.body.next}`, {
      token: admin.token,
    });
    expect(page2.body.items[0].ord).toBe(3);
    expect(page2.body.items[0].headings).toEqual([expect.stringMatching(/^Part \d+$/)]);
    await addText(app, admin.token, id, 'Second', 'Another one.');
    const docs = await request(app.url, 'GET', `/api/collections/${id}/documents?limit=1`, { token: admin.token });
    expect(docs.body.items).toHaveLength(1);
    const rest = await request(app.url, 'GET', `/api/collections/${id}/documents?limit=1&cursor=${docs.body.next}`, {
      token: admin.token,
    });
    expect(rest.body.items[0].id).not.toBe(docs.body.items[0].id);
  });
});
