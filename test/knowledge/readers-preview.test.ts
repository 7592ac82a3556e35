import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newGroup, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { addText, newCollection } from './helpers.ts';

/**
 * Before an admin changes who may read, the server says how many people the change lets in and
 * shuts out, by the read rule itself, and changes nothing.
 */
describe.each(backends)('previewing a change of readers on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  const preview = (path: string, body: unknown, token = admin.token) =>
    request(app.url, 'POST', `${path}/readers/preview`, { token, body });

  /** Active people the rule counts: every non-admin account not disabled (admins read either way). */
  async function activeNonAdmins() {
    const { rows } = await app.services.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE role <> 'admin' AND NOT disabled",
    );
    return rows[0]!.n;
  }

  it('counts the members who lose and gain a collection when its groups change, ignoring admins and disabled accounts', async () => {
    const finance = await newGroup(app, 'Finance');
    const legal = await newGroup(app, 'Legal');
    for (let i = 0; i < 3; i += 1) await newUser(app, { groups: [finance] });
    await newUser(app, { groups: [finance, legal] });
    await newUser(app, { groups: [legal] });
    await newUser(app, { groups: [finance], role: 'admin' });
    const gone = await newUser(app, { groups: [legal] });
    await app.services.db.query('UPDATE users SET disabled = true WHERE id = $1', [gone.id]);
    const collection = await newCollection(app, admin.token, { groups: [finance] });
    const path = `/api/collections/${collection}`;

    // Finance → Legal: three Finance-only members lose it, the Legal-only one gains it.
    const swap = await preview(path, { readers: 'groups', groups: [legal] });
    expect(swap.status).toBe(200);
    expect(swap.body.change).toEqual({ gain: 1, lose: 3 });
    // nothing changed
    const stored = (await request(app.url, 'GET', path, { token: admin.token })).body.collection;
    expect(stored.groups.map((g: { id: string }) => g.id)).toEqual([finance]);

    // to everyone: every active non-admin outside Finance gains it
    const open = await preview(path, { readers: 'everyone' });
    expect(open.body.change).toEqual({ gain: (await activeNonAdmins()) - 4, lose: 0 });
    // to admins only: the four Finance members lose it
    expect((await preview(path, { readers: 'groups', groups: [] })).body.change).toEqual({ gain: 0, lose: 4 });
    // the same readers: no one
    expect((await preview(path, { groups: [finance] })).body.change).toEqual({ gain: 0, lose: 0 });
  });

  it("counts a document's narrowing within its collection's readers", async () => {
    const hr = await newGroup(app, 'HR');
    const managers = await newGroup(app, 'Managers');
    await newUser(app, { groups: [hr] });
    await newUser(app, { groups: [hr, managers] });
    // a manager outside HR cannot read the collection, so the document's groups never let them in
    await newUser(app, { groups: [managers] });
    const collection = await newCollection(app, admin.token, { groups: [hr] });
    const doc = await addText(app, admin.token, collection, 'Salary bands', 'Salary bands of 2026.');
    const path = `/api/documents/${doc.id}`;

    expect((await preview(path, { readers: 'groups', groups: [managers] })).body.change).toEqual({
      gain: 0,
      lose: 1,
    });
    await request(app.url, 'PATCH', path, { token: admin.token, body: { groups: [managers] } });
    expect((await preview(path, { readers: 'collection' })).body.change).toEqual({ gain: 1, lose: 0 });
  });

  it('refuses what the change itself would refuse, and anyone but an admin', async () => {
    const collection = await newCollection(app, admin.token);
    const path = `/api/collections/${collection}`;
    const unknown = await preview(path, { readers: 'groups', groups: ['00000000-0000-4000-8000-000000000000'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_group');
    expect((await preview(path, { readers: 'everyone', groups: [await newGroup(app)] })).status).toBe(400);
    const employee = await newUser(app);
    expect((await preview(path, { readers: 'everyone' }, employee.token)).status).toBe(403);
    expect(
      (await preview('/api/collections/00000000-0000-4000-8000-000000000000', { readers: 'everyone' })).status,
    ).toBe(404);
  });
});
