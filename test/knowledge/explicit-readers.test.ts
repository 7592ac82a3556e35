import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newApiBot, newGroup, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { addText, newCollection, search, upload } from './helpers.ts';

/** Who reads is stored ("everyone" or groups): losing a group, or emptying a list, never opens knowledge to everyone. */
describe.each(backends)('explicit readers on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let outsider: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
    outsider = await newUser(app);
  });
  afterAll(() => app?.close());

  /** A group with a member, a collection only it reads (with a bot), and a document in an open collection narrowed to it. */
  async function knowledgeOf(name: string) {
    const group = await newGroup(app, name);
    const member = await newUser(app, { groups: [group] });
    const closed = await newCollection(app, admin.token, { name: `${name} files`, groups: [group] });
    const closedDoc = await addText(
      app,
      admin.token,
      closed,
      `${name} dismissal cases`,
      `Confidential ${name} dismissal cases of 2026.`,
    );
    const open = await newCollection(app, admin.token, { name: `${name} handbook` });
    // Narrowed after ingestion, as before documents could be created with their readers.
    const narrowedDoc = await addText(
      app,
      admin.token,
      open,
      `${name} salary bands`,
      `Salary bands of ${name}: engineers earn between 80k and 120k.`,
    );
    await request(app.url, 'PATCH', `/api/documents/${narrowedDoc.id}`, {
      token: admin.token,
      body: { groups: [group] },
    });
    const bot = await newApiBot(app, admin, { collectionIds: [closed], name: `${name} assistant` });
    return { group, member, closed, closedDoc: closedDoc.id as string, narrowedDoc: narrowedDoc.id as string, bot };
  }

  const found = async (user: TestUser, query: string) =>
    (await search(app, user.token, query)).map((h) => h.documentId);
  const botsOf = async (user: TestUser) =>
    ((await request(app.url, 'GET', '/api/bots', { token: user.token })).body.items as { id: string }[]).map(
      (b) => b.id,
    );

  it('refuses to delete a group that decides who reads, naming what depends on it, and nothing opens', async () => {
    const k = await knowledgeOf('Legal');
    const refused = await request(app.url, 'DELETE', `/api/groups/${k.group}`, { token: admin.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('group_in_use');
    expect(refused.body.error.message).toContain('Legal files');
    expect(refused.body.error.details).toMatchObject({
      collections: [{ id: k.closed, name: 'Legal files' }],
      documents: [{ id: k.narrowedDoc, title: 'Legal salary bands' }],
      bots: [{ id: k.bot.id, name: 'Legal assistant' }],
    });
    expect((await request(app.url, 'GET', `/api/groups/${k.group}`, { token: admin.token })).status).toBe(200);

    expect((await request(app.url, 'GET', `/api/collections/${k.closed}`, { token: outsider.token })).status).toBe(404);
    expect(await found(outsider, 'Legal dismissal cases')).not.toContain(k.closedDoc);
    expect(await found(outsider, 'Legal salary bands engineers')).not.toContain(k.narrowedDoc);
    expect(await botsOf(outsider)).not.toContain(k.bot.id);
    // Nor may the outsider start a chat with it by its id; its member may.
    const chat = (user: TestUser) =>
      request(app.url, 'POST', '/api/conversations', { token: user.token, body: { botId: k.bot.id } });
    expect((await chat(outsider)).status).toBe(404);
    expect((await chat(k.member)).status).toBe(201);
    // The member still reads both.
    expect(await found(k.member, 'Legal dismissal cases')).toContain(k.closedDoc);
    expect(await found(k.member, 'Legal salary bands engineers')).toContain(k.narrowedDoc);
  });

  it('deletes it when the admin chooses restrict-to-admins: what only it opened is read by admins alone', async () => {
    const k = await knowledgeOf('Finance');
    const deleted = await request(app.url, 'DELETE', `/api/groups/${k.group}?onDependents=restrict-to-admins`, {
      token: admin.token,
    });
    expect(deleted.status).toBe(204);
    expect((await request(app.url, 'GET', `/api/groups/${k.group}`, { token: admin.token })).status).toBe(404);

    const closed = await request(app.url, 'GET', `/api/collections/${k.closed}`, { token: admin.token });
    expect(closed.body.collection).toMatchObject({ readers: 'groups', groups: [] });
    for (const reader of [outsider, k.member]) {
      expect((await request(app.url, 'GET', `/api/collections/${k.closed}`, { token: reader.token })).status).toBe(404);
      expect(await found(reader, 'Finance dismissal cases')).not.toContain(k.closedDoc);
      expect(await found(reader, 'Finance salary bands engineers')).not.toContain(k.narrowedDoc);
      expect(await botsOf(reader)).not.toContain(k.bot.id);
    }
    expect(await found(admin, 'Finance dismissal cases')).toContain(k.closedDoc);
    expect(await found(admin, 'Finance salary bands engineers')).toContain(k.narrowedDoc);
    expect(await botsOf(admin)).toContain(k.bot.id);
  });

  it('deletes a group nothing depends on without asking', async () => {
    const group = await newGroup(app, 'Unused');
    expect((await request(app.url, 'DELETE', `/api/groups/${group}`, { token: admin.token })).status).toBe(204);
  });

  it('refuses an emptied group list alone; an explicit "groups" with none means admins only, "everyone" opens it', async () => {
    const group = await newGroup(app, 'Board');
    const collection = await newCollection(app, admin.token, { name: 'Board minutes', groups: [group] });
    const doc = await addText(app, admin.token, collection, 'Board minutes', 'The board approved the merger in March.');

    const emptied = await request(app.url, 'PATCH', `/api/collections/${collection}`, {
      token: admin.token,
      body: { groups: [] },
    });
    expect(emptied.status).toBe(400);
    expect(emptied.body.error.code).toBe('readers_required');
    expect(await found(outsider, 'board approved merger')).not.toContain(doc.id);

    const nobody = await request(app.url, 'PATCH', `/api/collections/${collection}`, {
      token: admin.token,
      body: { readers: 'groups', groups: [] },
    });
    expect(nobody.body.collection).toMatchObject({ readers: 'groups', groups: [] });
    expect(await found(outsider, 'board approved merger')).not.toContain(doc.id);
    expect(await found(admin, 'board approved merger')).toContain(doc.id);

    const contradiction = await request(app.url, 'PATCH', `/api/collections/${collection}`, {
      token: admin.token,
      body: { readers: 'everyone', groups: [group] },
    });
    expect(contradiction.status).toBe(400);

    const opened = await request(app.url, 'PATCH', `/api/collections/${collection}`, {
      token: admin.token,
      body: { readers: 'everyone' },
    });
    expect(opened.body.collection).toMatchObject({ readers: 'everyone', groups: [] });
    expect(await found(outsider, 'board approved merger')).toContain(doc.id);
  });

  it('keeps a collection created without readers or groups open to everyone', async () => {
    for (const body of [{ name: 'Canteen' }, { name: 'Canteen menu', groups: [] }]) {
      const created = await request(app.url, 'POST', '/api/collections', { token: admin.token, body });
      expect(created.status).toBe(201);
      expect(created.body.collection).toMatchObject({ readers: 'everyone', groups: [] });
      expect(
        (await request(app.url, 'GET', `/api/collections/${created.body.collection.id}`, { token: outsider.token }))
          .status,
      ).toBe(200);
    }
  });

  it('creates documents of every kind with their readers: an outsider never finds them, not even in the first second', async () => {
    const group = await newGroup(app, 'Works council');
    const member = await newUser(app, { groups: [group] });
    const collection = await newCollection(app, admin.token, { name: 'Staff notices' });
    const post = (body: Record<string, unknown>, path = '') =>
      request(app.url, 'POST', `/api/collections/${collection}/documents${path}`, { token: admin.token, body });
    const created = await Promise.all([
      post({ title: 'Layoff plan', text: 'Layoff plan: the Nanjing plant closes in June.', groups: [group] }),
      post({
        question: 'When does the layoff plan start?',
        answer: 'The layoff plan starts in June.',
        groups: [group],
      }),
      post(
        { groups: [group], documents: [{ title: 'Layoff list', text: 'Layoff list of the Nanjing plant, June.' }] },
        '/bulk',
      ),
      upload(
        app,
        admin.token,
        collection,
        'layoff-budget.md',
        Buffer.from('# Layoff budget\n\nThe layoff budget for June is 2 million.'),
        'text/markdown',
        { groups: group },
      ),
    ]);
    expect(created.map((c) => c.status)).toEqual([202, 202, 202, 202]);
    const ids = created.map((c) => (c.body.document ?? c.body.items[0].document).id as string);
    for (const c of created)
      expect((c.body.document ?? c.body.items[0].document).groups).toEqual([{ id: group, name: 'Works council' }]);

    // From the create call on, while each is queued, indexed and ready, the outsider searches.
    let searches = 0;
    let ready = 0;
    while (ready < ids.length || searches < 40) {
      const hits = await found(outsider, 'layoff plan Nanjing June budget list');
      expect(hits.filter((id) => ids.includes(id))).toEqual([]);
      searches += 1;
      const docs = await Promise.all(
        ids.map((id) => request(app.url, 'GET', `/api/documents/${id}`, { token: admin.token })),
      );
      ready = docs.filter((d) => d.body.document.status === 'ready').length;
      if (searches > 2000) throw new Error('documents never became ready');
    }
    // The same search finds them for a member of the group.
    const forMember = await found(member, 'layoff plan Nanjing June budget list');
    expect(ids.filter((id) => forMember.includes(id)).length).toBeGreaterThan(0);
  });
});
