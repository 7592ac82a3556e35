import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newApiBot, newGroup, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { addText, newCollection, search } from './helpers.ts';

const MODES = ['vector', 'text', 'hybrid'] as const;

describe.each(backends)('knowledge permissions on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let hrEmployee: TestUser;
  let employee: TestUser;
  let hr: string;
  let publicCollection: string;
  let hrCollection: string;
  let publicDoc: string;
  let hrOnlyDoc: string;
  let hrCollectionDoc: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
    hr = await newGroup(app, 'HR');
    hrEmployee = await newUser(app, { groups: [hr] });
    employee = await newUser(app);
    publicCollection = await newCollection(app, admin.token, { name: 'Company' });
    hrCollection = await newCollection(app, admin.token, { name: 'HR confidential', groups: [hr] });
    publicDoc = (
      await addText(
        app,
        admin.token,
        publicCollection,
        'Salary payment dates',
        'Salaries are paid on the 25th of each month.',
      )
    ).id;
    const hrOnly = await addText(
      app,
      admin.token,
      publicCollection,
      'Salary bands 2026',
      'Salary bands: engineers earn between 80k and 120k. 工资等级：工程师八万到十二万。',
    );
    hrOnlyDoc = hrOnly.id;
    const narrowed = await request(app.url, 'PATCH', `/api/documents/${hrOnlyDoc}`, {
      token: admin.token,
      body: { groups: [hr] },
    });
    expect(narrowed.body.document.groups).toEqual([{ id: hr, name: 'HR' }]);
    hrCollectionDoc = (
      await addText(
        app,
        admin.token,
        hrCollection,
        'Dismissal cases',
        'Confidential salary and dismissal cases of 2026. 解雇案例与工资。',
      )
    ).id;
  });
  afterAll(() => app?.close());

  it.each(MODES)('never gives a non-HR employee an HR passage over the %s path', async (mode) => {
    for (const query of [
      'salary bands engineers',
      'confidential dismissal cases salary',
      '工程师工资等级',
      '解雇案例',
    ]) {
      const hits = await search(app, employee.token, query, { mode, k: 20 });
      const ids = hits.map((h) => h.documentId);
      expect(ids).not.toContain(hrOnlyDoc);
      expect(ids).not.toContain(hrCollectionDoc);
      // Asking for the HR collection explicitly gives nothing either.
      expect(await search(app, employee.token, query, { mode, collectionIds: [hrCollection] })).toEqual([]);
    }
    // The public passage is found by the same employee.
    expect((await search(app, employee.token, 'when are salaries paid', { mode })).map((h) => h.documentId)).toContain(
      publicDoc,
    );
  });

  it.each(MODES)('gives HR members and admins the HR passages over the %s path', async (mode) => {
    for (const user of [hrEmployee, admin]) {
      expect(
        (await search(app, user.token, 'salary bands engineers', { mode, k: 20 })).map((h) => h.documentId),
      ).toContain(hrOnlyDoc);
      expect(
        (await search(app, user.token, 'confidential dismissal cases', { mode, k: 20 })).map((h) => h.documentId),
      ).toContain(hrCollectionDoc);
    }
  });

  it('lists and shows only readable collections; an unreadable one does not exist for the reader', async () => {
    const mine = await request(app.url, 'GET', '/api/collections', { token: employee.token });
    expect(mine.body.items.map((c: { id: string }) => c.id)).toEqual([publicCollection]);
    expect((await request(app.url, 'GET', `/api/collections/${hrCollection}`, { token: employee.token })).status).toBe(
      404,
    );
    expect(
      (await request(app.url, 'GET', `/api/collections/${hrCollection}`, { token: hrEmployee.token })).body.collection,
    ).toMatchObject({
      name: 'HR confidential',
      groups: [{ id: hr, name: 'HR' }],
    });
    const hrList = await request(app.url, 'GET', '/api/collections', { token: hrEmployee.token });
    expect(hrList.body.items.map((c: { id: string }) => c.id).sort()).toEqual([publicCollection, hrCollection].sort());
  });

  it('applies one rule on every read path: collections, each search half, the bots and /v1 models', async () => {
    const agent = await newUser(app, { role: 'agent' });
    const [hrBot, publicBot, openBot] = await Promise.all(
      [[hrCollection], [publicCollection], []].map((collectionIds) => newApiBot(app, admin, { collectionIds })),
    );
    const collections = [publicCollection, hrCollection];
    const documents = [publicDoc, hrOnlyDoc, hrCollectionDoc];
    const bots = [hrBot!, publicBot!, openBot!];
    const ids = (list: { id: string }[]) => list.map((b) => b.id);
    // The rule: admins read everything; HR's collection, the document narrowed to HR and the bot over
    // HR's collection are for HR members; the rest (and a bot naming no collection) for everyone.
    const everything = { collections, documents, bots: ids(bots) };
    const publicOnly = { collections: [publicCollection], documents: [publicDoc], bots: ids([publicBot!, openBot!]) };
    const readers = [
      { who: 'admin', user: admin, may: everything },
      { who: 'HR member', user: hrEmployee, may: everything },
      { who: 'employee outside HR', user: employee, may: publicOnly },
      { who: 'agent outside HR', user: agent, may: publicOnly },
    ];
    const among = (found: string[], known: string[]) => found.filter((id) => known.includes(id)).sort();
    const get = (token: string, path: string) => request(app.url, 'GET', path, { token });
    for (const { who, user, may } of readers) {
      const listed = (await get(user.token, '/api/collections?limit=200')).body.items.map((c: { id: string }) => c.id);
      expect(among(listed, collections), `${who}: GET /api/collections`).toEqual([...may.collections].sort());
      for (const id of collections) {
        const shown = await get(user.token, `/api/collections/${id}`);
        expect(shown.status, `${who}: GET /api/collections/:id`).toBe(may.collections.includes(id) ? 200 : 404);
      }
      for (const mode of MODES) {
        const query = 'salary salaries paid bands engineers dismissal cases';
        const hits = await search(app, user.token, query, { mode, k: 50 });
        const found = among([...new Set(hits.map((h) => h.documentId))], documents);
        expect(found, `${who}: search (${mode})`).toEqual([...may.documents].sort());
      }
      const usable = (await get(user.token, '/api/bots')).body.items.map((b: { id: string }) => b.id);
      expect(among(usable, ids(bots)), `${who}: GET /api/bots`).toEqual([...may.bots].sort());
      for (const { id } of bots) {
        const shown = await get(user.token, `/api/bots/${id}`);
        expect(shown.status, `${who}: GET /api/bots/:id`).toBe(may.bots.includes(id) ? 200 : 404);
      }
      const models = (await get(user.token, '/v1/models')).body.data.map((m: { id: string }) => m.id);
      const slugs = bots.map((b) => b.slug);
      const expected = bots.filter((b) => may.bots.includes(b.id)).map((b) => b.slug);
      expect(among(models, slugs), `${who}: GET /v1/models`).toEqual(expected.sort());
    }
  });

  it('keeps administration to admins', async () => {
    expect(
      (await request(app.url, 'POST', '/api/collections', { token: employee.token, body: { name: 'Mine' } })).status,
    ).toBe(403);
    expect((await request(app.url, 'GET', `/api/documents/${publicDoc}`, { token: hrEmployee.token })).status).toBe(
      403,
    );
    expect(
      (await request(app.url, 'GET', `/api/collections/${publicCollection}/documents`, { token: employee.token }))
        .status,
    ).toBe(403);
    expect((await request(app.url, 'POST', '/api/search', { body: { query: 'salary' } })).status).toBe(401);
    const knowledgeRoutes = app.routes.filter((r) => /collections|documents|search/.test(r.path));
    expect(
      knowledgeRoutes
        .filter((r) => r.access !== 'admin')
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual(
      // A document's passages: the citation's document view, filtered by the read rule itself.
      [
        'get /api/collections',
        'get /api/collections/:id',
        'get /api/documents/:id/passages',
        'post /api/search',
      ].sort(),
    );
  });

  it('applies a permission change at once, and audits it', async () => {
    const opened = await request(app.url, 'PATCH', `/api/collections/${hrCollection}`, {
      token: admin.token,
      body: { readers: 'everyone' },
    });
    expect(opened.body.collection).toMatchObject({ readers: 'everyone', groups: [] });
    expect((await search(app, employee.token, 'confidential dismissal cases')).map((h) => h.documentId)).toContain(
      hrCollectionDoc,
    );
    await request(app.url, 'PATCH', `/api/collections/${hrCollection}`, { token: admin.token, body: { groups: [hr] } });
    expect((await search(app, employee.token, 'confidential dismissal cases')).map((h) => h.documentId)).not.toContain(
      hrCollectionDoc,
    );
    const { rows } = await app.services.db.query<{ action: string; target_id: string; actor_id: string }>(
      `SELECT action, target_id, actor_id FROM audit_log WHERE action LIKE 'collection.%' OR action LIKE 'document.permissions%' ORDER BY id`,
    );
    expect(
      rows.filter((r) => r.action === 'collection.permissions_changed' && r.target_id === hrCollection),
    ).toHaveLength(2);
    expect(
      rows.some(
        (r) => r.action === 'document.permissions_changed' && r.target_id === hrOnlyDoc && r.actor_id === admin.id,
      ),
    ).toBe(true);
  });

  it('still returns k passages when the permission filter rejects most nearest neighbours (iterative index scan)', async () => {
    const restricted = await newCollection(app, admin.token, { name: 'Restricted archive', groups: [hr] });
    const adds = [];
    for (let i = 0; i < 60; i++) {
      adds.push(
        request(app.url, 'POST', `/api/collections/${restricted}/documents`, {
          token: admin.token,
          body: {
            title: `Archive ${i}`,
            text: `Travel expense report number ${i}: hotel, flights and meals reimbursed.`,
          },
        }),
      );
    }
    await Promise.all(adds);
    for (let i = 0; i < 12; i++) {
      await request(app.url, 'POST', `/api/collections/${publicCollection}/documents`, {
        token: admin.token,
        body: { title: `Guide ${i}`, text: `Travel guide ${i}: book hotels early; chapter ${i} on expenses.` },
      });
    }
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = async () => {
        const { rows } = await app.services.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM documents WHERE status IN ('queued', 'processing')`,
        );
        if (rows[0]!.n === 0) return resolve();
        if (Date.now() - started > 60_000) return reject(new Error('ingestion did not finish'));
        setTimeout(poll, 100);
      };
      void poll();
    });
    const hits = await search(app, employee.token, 'travel expense report hotel flights meals', {
      mode: 'vector',
      k: 10,
    });
    expect(hits).toHaveLength(10);
    const { rows } = await app.services.db.query<{ collection_id: string }>(
      'SELECT collection_id FROM documents WHERE id = ANY($1::uuid[])',
      [hits.map((h) => h.documentId)],
    );
    expect(new Set(rows.map((r) => r.collection_id))).toEqual(new Set([publicCollection]));
  }, 90_000);
});
