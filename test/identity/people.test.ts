import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newGroup, newUser, TEST_PASSWORD, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { count, expectError, freshIp, login, signIn, sql, suffix } from './helpers.ts';

const STRONG = 'a long and unusual passphrase 42';

describe.each(backends)('people and groups admin API on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin', name: 'Ada Admin' });
  });
  afterAll(() => app?.close());

  const api = (method: string, path: string, body?: unknown, token = admin.token) =>
    request(app.url, method, path, { token, ...(body === undefined ? {} : { body }) });
  const getUser = async (id: string) => (await api('GET', `/api/users/${id}`)).body.user;

  describe('users', () => {
    it('creates a user (201) who can then sign in; the answer carries no password material', async () => {
      const group = await newGroup(app, `Support ${suffix()}`);
      const email = `new.agent-${suffix()}@example.test`;
      const res = await api('POST', '/api/users', {
        email,
        name: 'Nina Agent',
        password: STRONG,
        role: 'agent',
        groups: [group],
        skills: ['billing', 'vpn'],
        capacity: 3,
      });
      expect(res.status).toBe(201);
      expect(res.body.user).toMatchObject({
        id: expect.any(String),
        email,
        name: 'Nina Agent',
        role: 'agent',
        disabled: false,
        groups: [{ id: group, name: expect.stringMatching(/^Support /) }],
        skills: ['billing', 'vpn'],
        capacity: 3,
        sso: false,
        lastLoginAt: null,
      });
      expect(JSON.stringify(res.body)).not.toMatch(/password|argon2/i);
      const signedIn = await login(app, email, STRONG);
      expect(signedIn.status).toBe(200);
      expect(signedIn.body.user.role).toBe('agent');
      // Role defaults to employee.
      const plain = await api('POST', '/api/users', {
        email: `plain-${suffix()}@example.test`,
        name: 'Plain',
        password: STRONG,
      });
      expect(plain.body.user.role).toBe('employee');
    });

    it('refuses weak passwords (400 weak_password), duplicate emails in any case (409) and unknown groups (400), writing nothing', async () => {
      const before = await count(app, 'users');
      const email = `weak-${suffix()}@example.test`;
      for (const password of [
        'short',
        'password1234',
        'aaaaaaaaaaaaaaaa',
        `${email.split('@')[0]}-and-more`,
        'x'.repeat(300),
      ]) {
        expectError(await api('POST', '/api/users', { email, name: 'Weak', password }), 400, 'weak_password');
      }
      expectError(
        await api('POST', '/api/users', { email: admin.email.toUpperCase(), name: 'Dup', password: STRONG }),
        409,
        'conflict',
      );
      expectError(
        await api('POST', '/api/users', {
          email: `g-${suffix()}@example.test`,
          name: 'G',
          password: STRONG,
          groups: [randomUUID()],
        }),
        400,
        'unknown_group',
      );
      expect(await count(app, 'users')).toBe(before);
    });

    it('accepts group ids in upper case (UUIDs are case-insensitive)', async () => {
      const group = await newGroup(app);
      const res = await api('POST', '/api/users', {
        email: `upper-${suffix()}@example.test`,
        name: 'Upper',
        password: STRONG,
        groups: [group.toUpperCase()],
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.user.groups.map((g: { id: string }) => g.id)).toEqual([group]);
    });

    it('lists users a page at a time, sorted by email, and finds them by email or name', async () => {
      const tag = `pg${suffix()}`;
      const emails = ['e', 'c', 'a', 'd', 'b'].map((l) => `${tag}-${l}@example.test`);
      for (const [i, email] of emails.entries()) await newUser(app, { email, name: `Pager ${tag} ${i}` });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await api('GET', `/api/users?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items.map((u: { email: string }) => u.email));
        cursor = res.body.next;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual([...emails].sort());
      expect(new Set(seen).size).toBe(5);

      const byName = await api('GET', `/api/users?q=${encodeURIComponent(`Pager ${tag} 3`)}`);
      expect(byName.body.items.map((u: { email: string }) => u.email)).toEqual([emails[3]]);
      const byUpper = await api('GET', `/api/users?q=${tag.toUpperCase()}`);
      expect(byUpper.body.items).toHaveLength(5);
      const admins = await api('GET', '/api/users?role=admin');
      expect(admins.body.items.every((u: { role: string }) => u.role === 'admin')).toBe(true);
      expect(admins.body.items.map((u: { id: string }) => u.id)).toContain(admin.id);
    });

    it('updates name, role, groups, skills and capacity, and 404s for an unknown user', async () => {
      const user = await newUser(app, { name: 'Old Name' });
      const [g1, g2] = [await newGroup(app), await newGroup(app)];
      const res = await api('PATCH', `/api/users/${user.id}`, {
        name: 'New Name',
        role: 'agent',
        groups: [g1, g2],
        skills: ['hr'],
        capacity: 7,
      });
      expect(res.status).toBe(200);
      const stored = await getUser(user.id);
      expect(stored).toMatchObject({ name: 'New Name', role: 'agent', skills: ['hr'], capacity: 7 });
      expect(stored.groups.map((g: { id: string }) => g.id).sort()).toEqual([g1, g2].sort());
      // A role change ends the sessions held under the old role; signed in again, the user sees it.
      expect((await request(app.url, 'GET', '/api/me', { token: user.token })).status).toBe(401);
      const meNow = await request(app.url, 'GET', '/api/me', { token: await signIn(app, user.email, TEST_PASSWORD) });
      expect(meNow.body.user).toMatchObject({ role: 'agent', name: 'New Name' });

      await api('PATCH', `/api/users/${user.id}`, { groups: [g2] });
      expect((await getUser(user.id)).groups.map((g: { id: string }) => g.id)).toEqual([g2]);
      expectError(await api('PATCH', `/api/users/${randomUUID()}`, { name: 'Ghost' }), 404, 'not_found');
      expectError(await api('GET', `/api/users/${randomUUID()}`), 404, 'not_found');
    });

    it('signs a demoted user out everywhere', async () => {
      const agent = await newUser(app, { role: 'agent' });
      expect((await api('PATCH', `/api/users/${agent.id}`, { role: 'employee' })).status).toBe(200);
      expectError(await request(app.url, 'GET', '/api/me', { token: agent.token }), 401, 'unauthorized');
      const again = await signIn(app, agent.email, TEST_PASSWORD);
      expect((await request(app.url, 'GET', '/api/me', { token: again })).body.user.role).toBe('employee');
    });

    it("resets a password: the user's sessions end, the old password stops working and the new one works", async () => {
      const user = await newUser(app);
      const other = await signIn(app, user.email, TEST_PASSWORD, { ip: freshIp() });
      expectError(await api('PATCH', `/api/users/${user.id}`, { password: 'short' }), 400, 'weak_password');
      expect((await request(app.url, 'GET', '/api/me', { token: user.token })).status).toBe(200);

      expect((await api('PATCH', `/api/users/${user.id}`, { password: STRONG })).status).toBe(200);
      for (const token of [user.token, other])
        expectError(await request(app.url, 'GET', '/api/me', { token }), 401, 'unauthorized');
      expectError(await login(app, user.email, TEST_PASSWORD, { ip: freshIp() }), 401, 'invalid_credentials');
      expect((await login(app, user.email, STRONG, { ip: freshIp() })).status).toBe(200);
    });

    it('never lets an admin disable or demote themself, nor the last active admin go', async () => {
      expectError(await api('PATCH', `/api/users/${admin.id}`, { disabled: true }), 409, 'conflict');
      expectError(await api('PATCH', `/api/users/${admin.id}`, { role: 'employee' }), 409, 'conflict');
      expect((await getUser(admin.id)).role).toBe('admin');
      // Their own name they may change.
      expect((await api('PATCH', `/api/users/${admin.id}`, { name: 'Ada A. Admin' })).status).toBe(200);

      // Two admins removing each other at the same moment: one of them must stay.
      const activeAdmins = async () =>
        (
          await sql<{ n: number }>(app, `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled`)
        )[0]!.n;
      try {
        for (let round = 0; round < 4; round += 1) {
          // Only these two are admins this round.
          await sql(app, `UPDATE users SET role = 'employee' WHERE role = 'admin'`);
          const a = await newUser(app, { role: 'admin' });
          const b = await newUser(app, { role: 'admin' });
          const change = round % 2 ? { role: 'employee' } : { disabled: true };
          const [ab, ba] = await Promise.all([
            api('PATCH', `/api/users/${b.id}`, change, a.token),
            api('PATCH', `/api/users/${a.id}`, change, b.token),
          ]);
          expect(
            [ab.status, ba.status].filter((s) => s === 200).length,
            `${ab.status} ${ba.status}`,
          ).toBeLessThanOrEqual(1);
          // The loser is refused as the last admin, or (if the winner finished first) is no longer signed in.
          for (const res of [ab, ba]) if (res.status !== 200) expectError(res, res.status === 401 ? 401 : 409);
          expect(await activeAdmins()).toBe(1);
        }
      } finally {
        await sql(app, `UPDATE users SET role = 'admin', disabled = false WHERE id = $1`, [admin.id]);
      }
    });

    it('re-enables a disabled user', async () => {
      const user = await newUser(app);
      expect((await api('PATCH', `/api/users/${user.id}`, { disabled: true })).body.user.disabled).toBe(true);
      const list = await api('GET', `/api/users?q=${encodeURIComponent(user.email)}`);
      expect(list.body.items[0].disabled).toBe(true);
      expect((await api('PATCH', `/api/users/${user.id}`, { disabled: false })).body.user.disabled).toBe(false);
      expect((await login(app, user.email, TEST_PASSWORD, { ip: freshIp() })).status).toBe(200);
    });
  });

  describe('groups', () => {
    it('creates, lists, renames and deletes groups', async () => {
      const name = `Finance ${suffix()}`;
      const created = await api('POST', '/api/groups', { name, description: 'Money people' });
      expect(created.status).toBe(201);
      expect(created.body.group).toEqual({
        id: expect.any(String),
        name,
        description: 'Money people',
        memberCount: 0,
        createdAt: expect.any(String),
      });
      const id = created.body.group.id as string;
      expectError(await api('POST', '/api/groups', { name: name.toUpperCase() }), 409, 'conflict');

      const listed = await api('GET', `/api/groups?q=${encodeURIComponent(name)}`);
      expect(listed.body.items.map((g: { id: string }) => g.id)).toEqual([id]);

      const renamed = await api('PATCH', `/api/groups/${id}`, { name: `${name} & Controlling` });
      expect(renamed.status).toBe(200);
      expect(renamed.body.group).toMatchObject({ name: `${name} & Controlling`, description: 'Money people' });
      expect((await api('GET', `/api/groups/${id}`)).body.group).toMatchObject({
        name: `${name} & Controlling`,
        members: [],
      });

      expect((await api('DELETE', `/api/groups/${id}`)).status).toBe(204);
      expectError(await api('GET', `/api/groups/${id}`), 404, 'not_found');
      expectError(await api('DELETE', `/api/groups/${id}`), 404, 'not_found');
      expectError(await api('PATCH', `/api/groups/${id}`, { name: 'x' }), 404, 'not_found');
    });

    it('pages groups by name', async () => {
      const tag = `gp${suffix()}`;
      for (const l of ['c', 'a', 'b'])
        expect((await api('POST', '/api/groups', { name: `${tag} ${l}` })).status).toBe(201);
      const names: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await api('GET', `/api/groups?q=${tag}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        names.push(...res.body.items.map((g: { name: string }) => g.name));
        cursor = res.body.next;
      } while (cursor && names.length < 10);
      expect(names).toEqual([`${tag} a`, `${tag} b`, `${tag} c`]);
    });

    it('adds and removes members, which their user record and their own /api/me reflect', async () => {
      const user = await newUser(app);
      const groupName = `Legal ${suffix()}`;
      const group = (await api('POST', '/api/groups', { name: groupName })).body.group.id as string;

      expect((await api('PUT', `/api/groups/${group}/members/${user.id}`)).status).toBe(204);
      // Idempotent.
      expect((await api('PUT', `/api/groups/${group}/members/${user.id}`)).status).toBe(204);
      expect((await getUser(user.id)).groups).toEqual([{ id: group, name: groupName }]);
      expect((await request(app.url, 'GET', '/api/me', { token: user.token })).body.user.groups).toEqual([
        { id: group, name: groupName },
      ]);
      const detail = (await api('GET', `/api/groups/${group}`)).body.group;
      expect(detail).toMatchObject({
        memberCount: 1,
        members: [{ id: user.id, email: user.email, name: expect.any(String) }],
      });

      // A rename shows up on the member too.
      await api('PATCH', `/api/groups/${group}`, { name: `${groupName} EU` });
      expect((await request(app.url, 'GET', '/api/me', { token: user.token })).body.user.groups).toEqual([
        { id: group, name: `${groupName} EU` },
      ]);

      expect((await api('DELETE', `/api/groups/${group}/members/${user.id}`)).status).toBe(204);
      expect((await getUser(user.id)).groups).toEqual([]);
      expect((await request(app.url, 'GET', '/api/me', { token: user.token })).body.user.groups).toEqual([]);
      expectError(await api('DELETE', `/api/groups/${group}/members/${user.id}`), 404, 'not_found');
      expectError(await api('PUT', `/api/groups/${group}/members/${randomUUID()}`), 404, 'not_found');
      expectError(await api('PUT', `/api/groups/${randomUUID()}/members/${user.id}`), 404, 'not_found');

      // Deleting a group ends its memberships.
      await api('PUT', `/api/groups/${group}/members/${user.id}`);
      expect((await api('DELETE', `/api/groups/${group}`)).status).toBe(204);
      expect((await getUser(user.id)).groups).toEqual([]);
    });
  });
});
