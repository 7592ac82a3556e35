import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, TEST_PASSWORD, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { sleep } from '../support/wait.ts';
import { cookie, expectError, freshIp, login, median, recordBus, sessionSetCookie, signIn, sql } from './helpers.ts';

describe.each(backends)('sign-in, sessions, personal tokens and cookie safety on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  const me = (headers: { token?: string; headers?: Record<string, string> }) =>
    request(app.url, 'GET', '/api/me', headers);
  const disable = (userId: string, disabled = true) =>
    request(app.url, 'PATCH', `/api/users/${userId}`, { token: admin.token, body: { disabled } });

  describe('login', () => {
    it('returns {token, user} without any password material and sets an httpOnly SameSite=Lax session cookie', async () => {
      const user = await newUser(app, { name: 'Lena Login' });
      const res = await login(app, user.email, TEST_PASSWORD);
      expect(res.status).toBe(200);
      expect(res.body.token).toMatch(/^ens_[A-Za-z0-9_-]{43}$/);
      expect(res.body.user).toMatchObject({
        id: user.id,
        email: user.email,
        name: 'Lena Login',
        role: 'employee',
        disabled: false,
      });
      expect(res.body.user.lastLoginAt).toEqual(expect.any(String));
      const raw = JSON.stringify(res.body);
      expect(raw).not.toMatch(/password|argon2/i);

      const setCookie = sessionSetCookie(res);
      expect(setCookie).toBeDefined();
      expect(setCookie).toContain(`enclave_session=${res.body.token}`);
      expect(setCookie).toMatch(/;\s*HttpOnly/i);
      expect(setCookie).toMatch(/;\s*SameSite=Lax/i);
      expect(setCookie).toMatch(/;\s*Path=\//i);
      expect(setCookie).toMatch(/;\s*Max-Age=\d+/i);
    });

    it('accepts the token as a Bearer header and the cookie alone on GET /api/me', async () => {
      const user = await newUser(app);
      const token = await signIn(app, user.email, TEST_PASSWORD);
      const viaBearer = await me({ token });
      expect(viaBearer.status).toBe(200);
      expect(viaBearer.body.user).toMatchObject({ id: user.id, email: user.email });
      const viaCookie = await me({ headers: cookie(token) });
      expect(viaCookie.status).toBe(200);
      expect(viaCookie.body.user.id).toBe(user.id);

      expectError(await me({}), 401, 'unauthorized');
      expectError(await me({ token: 'ens_not-a-real-token' }), 401, 'unauthorized');
      expectError(await me({ headers: cookie('garbage') }), 401, 'unauthorized');
    });

    it('matches the email case-insensitively', async () => {
      const user = await newUser(app);
      const res = await login(app, `  ${user.email.toUpperCase()} `, TEST_PASSWORD);
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(user.id);
    });

    it('answers a wrong password and an unknown email identically, in similar time', async () => {
      const user = await newUser(app);
      const wrong = () => login(app, user.email, 'not the password at all', { ip: freshIp() });
      let n = 0;
      const unknown = () =>
        login(app, `nobody-${(n += 1)}-${user.id}@example.test`, 'not the password at all', { ip: freshIp() });
      // Warm both paths once (JIT, connection pool), then interleave the measured attempts.
      const first = [await wrong(), await unknown()];
      expectError(first[0]!, 401, 'invalid_credentials');
      expect(first[1]!.status).toBe(401);
      expect(first[1]!.body).toEqual(first[0]!.body);

      const wrongMs: number[] = [];
      const unknownMs: number[] = [];
      for (let i = 0; i < 7; i += 1) {
        for (const [attempt, into] of [
          [wrong, wrongMs],
          [unknown, unknownMs],
        ] as const) {
          const started = performance.now();
          const res = await attempt();
          into.push(performance.now() - started);
          expect(res.status).toBe(401);
          expect(res.body).toEqual(first[0]!.body);
        }
      }
      const [w, u] = [median(wrongMs), median(unknownMs)];
      console.log(
        `[identity] ${backend}: median failed sign-in, wrong password ${w.toFixed(1)} ms, unknown email ${u.toFixed(1)} ms`,
      );
      expect(u).toBeLessThanOrEqual(w * 3 + 60);
      expect(w).toBeLessThanOrEqual(u * 3 + 60);
    });

    it('refuses a disabled user, with the same answer as a wrong password, and ends their sessions at once', async () => {
      const user = await newUser(app);
      const wrongPassword = await login(app, user.email, 'definitely wrong password', { ip: freshIp() });
      expect((await disable(user.id)).status).toBe(200);
      expectError(await me({ token: user.token }), 401, 'unauthorized');
      const res = await login(app, user.email, TEST_PASSWORD, { ip: freshIp() });
      expectError(res, 401, 'invalid_credentials');
      expect(res.body).toEqual(wrongPassword.body);
      expect(sessionSetCookie(res)).toBeUndefined();

      // Enabled again, they can sign in again.
      expect((await disable(user.id, false)).status).toBe(200);
      expect((await login(app, user.email, TEST_PASSWORD, { ip: freshIp() })).status).toBe(200);
    });

    it('logout revokes the session and clears the cookie', async () => {
      const user = await newUser(app);
      const res = await request(app.url, 'POST', '/api/auth/logout', { token: user.token });
      expect(res.status).toBe(204);
      const cleared = sessionSetCookie(res);
      expect(cleared).toMatch(/^enclave_session=;/);
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/i);
      expectError(await me({ token: user.token }), 401, 'unauthorized');

      // The browser way: cookie only, from our own page.
      const token = await signIn(app, user.email, TEST_PASSWORD);
      const viaCookie = await request(app.url, 'POST', '/api/auth/logout', {
        headers: { ...cookie(token), origin: app.url },
      });
      expect(viaCookie.status).toBe(204);
      expectError(await me({ headers: cookie(token) }), 401, 'unauthorized');
    });
  });

  describe('sessions', () => {
    it('lists live sessions with their address and marks the current one', async () => {
      const user = await newUser(app);
      const [ipA, ipB] = [freshIp(), freshIp()];
      const a = await signIn(app, user.email, TEST_PASSWORD, { ip: ipA, headers: { 'user-agent': 'Laptop browser' } });
      const b = await signIn(app, user.email, TEST_PASSWORD, { ip: ipB, headers: { 'user-agent': 'Phone browser' } });
      const res = await request(app.url, 'GET', '/api/auth/sessions', { token: a });
      expect(res.status).toBe(200);
      expect(res.body.next).toBeNull();
      // The fixture's own sign-in plus the two above.
      expect(res.body.items).toHaveLength(3);
      const current = res.body.items.filter((s: { current: boolean }) => s.current);
      expect(current).toHaveLength(1);
      // The address behind the loopback proxy is the one recorded: req.ip follows X-Forwarded-For.
      expect(current[0]).toMatchObject({ ip: ipA, userAgent: 'Laptop browser' });
      expect(res.body.items.find((s: { ip: string }) => s.ip === ipB)).toMatchObject({
        current: false,
        userAgent: 'Phone browser',
      });
      for (const item of res.body.items) {
        expect(Object.keys(item).sort()).toEqual([
          'createdAt',
          'current',
          'expiresAt',
          'id',
          'ip',
          'lastUsedAt',
          'userAgent',
        ]);
      }
      // From the other session's point of view, that one is current.
      const fromB = await request(app.url, 'GET', '/api/auth/sessions', { token: b });
      expect(fromB.body.items.find((s: { current: boolean }) => s.current).ip).toBe(ipB);
    });

    it("revokes another of my sessions (its token stops working at once) but never someone else's", async () => {
      const user = await newUser(app);
      const other = await newUser(app);
      const second = await signIn(app, user.email, TEST_PASSWORD, { ip: freshIp() });
      const list = await request(app.url, 'GET', '/api/auth/sessions', { token: second });
      const secondId = list.body.items.find((s: { current: boolean }) => s.current).id as string;
      const otherList = await request(app.url, 'GET', '/api/auth/sessions', { token: other.token });
      const othersId = otherList.body.items[0].id as string;

      expectError(
        await request(app.url, 'DELETE', `/api/auth/sessions/${othersId}`, { token: user.token }),
        404,
        'not_found',
      );
      expect((await me({ token: other.token })).status).toBe(200);
      expectError(
        await request(app.url, 'DELETE', `/api/auth/sessions/${randomUUID()}`, { token: user.token }),
        404,
        'not_found',
      );
      expectError(
        await request(app.url, 'DELETE', '/api/auth/sessions/not-a-uuid', { token: user.token }),
        404,
        'not_found',
      );

      const revoked = await request(app.url, 'DELETE', `/api/auth/sessions/${secondId}`, { token: user.token });
      expect(revoked.status).toBe(204);
      expectError(await me({ token: second }), 401, 'unauthorized');
      expect((await me({ token: user.token })).status).toBe(200);
      const after = await request(app.url, 'GET', '/api/auth/sessions', { token: user.token });
      expect(after.body.items.map((s: { id: string }) => s.id)).not.toContain(secondId);
      // Revoking it again: it is gone.
      expectError(
        await request(app.url, 'DELETE', `/api/auth/sessions/${secondId}`, { token: user.token }),
        404,
        'not_found',
      );
    });

    it('refuses a session from the moment it expires, even one just used', async () => {
      const user = await newUser(app);
      await sql(app, `UPDATE sessions SET expires_at = now() + interval '1 second' WHERE user_id = $1`, [user.id]);
      expect((await me({ token: user.token })).status).toBe(200);
      await sleep(1100);
      expectError(await me({ token: user.token }), 401, 'unauthorized');
      expectError(await me({ headers: cookie(user.token) }), 401, 'unauthorized');
    });

    it('publishes auth.revoked (user and session ids) on logout, on session revoke and when an admin disables the user', async () => {
      const bus = recordBus(app);
      try {
        const user = await newUser(app);
        const sessionIdOf = async (token: string) => {
          const res = await request(app.url, 'GET', '/api/auth/sessions', { token });
          return res.body.items.find((s: { current: boolean }) => s.current).id as string;
        };

        const loggedOutId = await sessionIdOf(user.token);
        expect((await request(app.url, 'POST', '/api/auth/logout', { token: user.token })).status).toBe(204);
        await bus.waitFor(
          (e) => e.type === 'auth.revoked' && e.userId === user.id && (e.sessionIds ?? []).includes(loggedOutId),
          'auth.revoked on logout',
        );

        const keep = await signIn(app, user.email, TEST_PASSWORD);
        const drop = await signIn(app, user.email, TEST_PASSWORD);
        const dropId = await sessionIdOf(drop);
        expect((await request(app.url, 'DELETE', `/api/auth/sessions/${dropId}`, { token: keep })).status).toBe(204);
        await bus.waitFor(
          (e) => e.type === 'auth.revoked' && e.userId === user.id && (e.sessionIds ?? []).includes(dropId),
          'auth.revoked on session revoke',
        );

        const keepId = await sessionIdOf(keep);
        const { apiToken } = (
          await request(app.url, 'POST', '/api/tokens', { token: keep, body: { name: 'socket client' } })
        ).body;
        expect((await disable(user.id)).status).toBe(200);
        // Every credential of a disabled user: its sessions and the sockets opened with its tokens.
        await bus.waitFor(
          (e) =>
            e.type === 'auth.revoked' &&
            e.userId === user.id &&
            (e.sessionIds ?? []).includes(keepId) &&
            (e.tokenIds ?? []).includes(apiToken.id),
          'auth.revoked on disable',
        );
      } finally {
        bus.stop();
      }
    });
  });

  describe('personal API tokens', () => {
    const createToken = (token: string, body: unknown) => request(app.url, 'POST', '/api/tokens', { token, body });

    it('shows the secret once, lists tokens without it, and stores only a hash', async () => {
      const user = await newUser(app);
      const created = await createToken(user.token, { name: 'CI pipeline' });
      expect(created.status).toBe(201);
      const secret = created.body.token as string;
      expect(secret).toMatch(/^enp_[A-Za-z0-9_-]{43}$/);
      expect(created.body.apiToken).toMatchObject({
        id: expect.any(String),
        name: 'CI pipeline',
        prefix: secret.slice(0, 12),
        scopes: ['chat'],
        expiresAt: expect.any(String),
      });

      const list = await request(app.url, 'GET', '/api/tokens', { token: user.token });
      expect(list.status).toBe(200);
      expect(list.body.items).toEqual([
        {
          id: created.body.apiToken.id,
          name: 'CI pipeline',
          prefix: secret.slice(0, 12),
          scopes: ['chat'],
          createdAt: expect.any(String),
          lastUsedAt: null,
          expiresAt: created.body.apiToken.expiresAt,
        },
      ]);
      expect(JSON.stringify(list.body)).not.toContain(secret.slice(12));

      const [row] = await sql<{ token_hash: string }>(app, 'SELECT token_hash FROM api_tokens WHERE id = $1', [
        created.body.apiToken.id,
      ]);
      expect(row!.token_hash).not.toBe(secret);
      expect(row!.token_hash).not.toContain(secret.slice(4));
      expect(row!.token_hash).toMatch(/^[0-9a-f]{64}$/);
      const leaked = await sql(app, 'SELECT 1 FROM api_tokens WHERE token_hash = $1 OR name = $1 OR prefix = $1', [
        secret,
      ]);
      expect(leaked).toEqual([]);

      // Another user sees none of it.
      const other = await newUser(app);
      expect((await request(app.url, 'GET', '/api/tokens', { token: other.token })).body.items).toEqual([]);
    });

    it("authenticates as its user with exactly that user's rights", async () => {
      const employee = await newUser(app);
      const employeeToken = (await createToken(employee.token, { name: 'scripts', scopes: ['api'] })).body
        .token as string;
      const meRes = await me({ token: employeeToken });
      expect(meRes.status).toBe(200);
      expect(meRes.body.user).toMatchObject({ id: employee.id, role: 'employee' });
      expectError(await request(app.url, 'GET', '/api/users', { token: employeeToken }), 403, 'forbidden');
      expectError(
        await request(app.url, 'POST', '/api/groups', { token: employeeToken, body: { name: 'x' } }),
        403,
        'forbidden',
      );

      const adminToken = (await createToken(admin.token, { name: 'provisioning', scopes: ['api'] })).body
        .token as string;
      expect((await request(app.url, 'GET', '/api/users', { token: adminToken })).status).toBe(200);

      // Use is recorded (the list shows when a token was last used).
      const list = await request(app.url, 'GET', '/api/tokens', { token: employee.token });
      expect(list.body.items[0].lastUsedAt).toEqual(expect.any(String));
    });

    it('stops working once revoked, and only its owner can revoke it', async () => {
      const user = await newUser(app);
      const other = await newUser(app);
      const created = await createToken(user.token, { name: 'temporary', scopes: ['api'] });
      const { token, apiToken } = created.body;
      expect((await me({ token })).status).toBe(200);

      expectError(
        await request(app.url, 'DELETE', `/api/tokens/${apiToken.id}`, { token: other.token }),
        404,
        'not_found',
      );
      expect((await me({ token })).status).toBe(200);

      expect((await request(app.url, 'DELETE', `/api/tokens/${apiToken.id}`, { token: user.token })).status).toBe(204);
      expectError(await me({ token }), 401, 'unauthorized');
      expect((await request(app.url, 'GET', '/api/tokens', { token: user.token })).body.items).toEqual([]);
      expectError(
        await request(app.url, 'DELETE', `/api/tokens/${apiToken.id}`, { token: user.token }),
        404,
        'not_found',
      );
    });

    it('publishes auth.revoked with the token id when a token is revoked, so sockets opened with it close', async () => {
      const bus = recordBus(app);
      try {
        const user = await newUser(app);
        const { apiToken } = (await createToken(user.token, { name: 'socket client' })).body;
        expect((await request(app.url, 'DELETE', `/api/tokens/${apiToken.id}`, { token: user.token })).status).toBe(
          204,
        );
        await bus.waitFor(
          (e) => e.type === 'auth.revoked' && e.userId === user.id && (e.tokenIds ?? []).includes(apiToken.id),
          'auth.revoked for the token',
        );
      } finally {
        bus.stop();
      }
    });

    it('revokes the tokens of a disabled user (re-enabling does not revive them), and refuses an expired token', async () => {
      const user = await newUser(app);
      const { token } = (await createToken(user.token, { name: 'nightly', scopes: ['api'], expiresInDays: 30 })).body;
      expect((await me({ token })).status).toBe(200);
      expect((await disable(user.id)).status).toBe(200);
      expectError(await me({ token }), 401, 'unauthorized');
      expect((await disable(user.id, false)).status).toBe(200);
      expectError(await me({ token }), 401, 'unauthorized');

      const other = await newUser(app);
      const created = (await createToken(other.token, { name: 'short-lived', scopes: ['api'], expiresInDays: 1 })).body;
      expect(Date.parse(created.apiToken.expiresAt) - Date.now()).toBeGreaterThan(23 * 3_600_000);
      await sql(app, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        created.apiToken.id,
      ]);
      expectError(await me({ token: created.token }), 401, 'unauthorized');
    });
  });

  describe('cookie safety', () => {
    it('refuses cookie-authenticated writes without our Origin (or Referer), or from another origin', async () => {
      const user = await newUser(app);
      const post = (headers: Record<string, string>, token?: string) =>
        request(app.url, 'POST', '/api/tokens', {
          body: { name: 'from a page' },
          headers,
          ...(token ? { token } : {}),
        });
      const before = (await request(app.url, 'GET', '/api/tokens', { token: user.token })).body.items.length;

      expectError(await post(cookie(user.token)), 403, 'origin_mismatch');
      expectError(await post({ ...cookie(user.token), origin: 'https://evil.example' }), 403, 'origin_mismatch');
      expectError(await post({ ...cookie(user.token), origin: 'null' }), 403, 'origin_mismatch');
      expectError(await post({ ...cookie(user.token), referer: 'https://evil.example/page' }), 403, 'origin_mismatch');
      // A look-alike of our origin is not our origin.
      expectError(await post({ ...cookie(user.token), origin: `${app.url}.evil.example` }), 403, 'origin_mismatch');
      expect((await request(app.url, 'GET', '/api/tokens', { token: user.token })).body.items).toHaveLength(before);

      expect((await post({ ...cookie(user.token), origin: app.url })).status).toBe(201);
      expect((await post({ ...cookie(user.token), referer: `${app.url}/settings/tokens` })).status).toBe(201);
      // Bearer requests cannot be forged by another site: no Origin needed, a foreign one is fine.
      expect((await post({ origin: 'https://evil.example' }, user.token)).status).toBe(201);
      expect((await post({}, user.token)).status).toBe(201);
      // Reads are not state-changing.
      expect((await me({ headers: { ...cookie(user.token), origin: 'https://evil.example' } })).status).toBe(200);
    });

    it('applies to PATCH and DELETE too, and nothing changes when refused', async () => {
      const target = await newUser(app, { name: 'Before' });
      const adminCookie = cookie(admin.token);
      const patch = (headers: Record<string, string>) =>
        request(app.url, 'PATCH', `/api/users/${target.id}`, { body: { name: 'After' }, headers });
      expectError(await patch(adminCookie), 403, 'origin_mismatch');
      expectError(await patch({ ...adminCookie, origin: 'https://evil.example' }), 403, 'origin_mismatch');
      expect((await request(app.url, 'GET', `/api/users/${target.id}`, { token: admin.token })).body.user.name).toBe(
        'Before',
      );
      const ok = await patch({ ...adminCookie, origin: app.url });
      expect(ok.status).toBe(200);
      expect(ok.body.user.name).toBe('After');

      const { apiToken, token } = (
        await request(app.url, 'POST', '/api/tokens', {
          token: target.token,
          body: { name: 'to delete', scopes: ['api'] },
        })
      ).body;
      const del = (headers: Record<string, string>) =>
        request(app.url, 'DELETE', `/api/tokens/${apiToken.id}`, { headers });
      expectError(await del(cookie(target.token)), 403, 'origin_mismatch');
      expectError(await del({ ...cookie(target.token), origin: 'https://evil.example' }), 403, 'origin_mismatch');
      expect((await me({ token })).status).toBe(200);
      expect((await del({ ...cookie(target.token), origin: app.url })).status).toBe(204);
      expectError(await me({ token }), 401, 'unauthorized');
    });
  });

  it('measures sign-in latency (p50 of 10 successful logins)', async () => {
    const user = await newUser(app);
    const times: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const started = performance.now();
      const res = await login(app, user.email, TEST_PASSWORD);
      times.push(performance.now() - started);
      expect(res.status).toBe(200);
    }
    const p50 = median(times);
    console.log(
      `[identity] ${backend}: login latency p50 ${p50.toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`,
    );
    expect(p50).toBeLessThan(2000);
  });
});
