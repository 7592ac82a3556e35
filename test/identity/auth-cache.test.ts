import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActorCache, type CachedActor } from '../../server/src/core/auth/actor-cache.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { sleep } from '../support/wait.ts';

const entry = (userId: string, expiresAt: Date | null = null): CachedActor => ({
  actor: {
    id: userId,
    email: `${userId}@example.test`,
    name: userId,
    role: 'employee',
    credential: { kind: 'session', id: `s-${userId}` },
  },
  lastUsedAt: null,
  expiresAt,
});

describe('actor cache', () => {
  it('keeps an actor for its TTL but never past the credential’s own expiry', () => {
    let now = 1_000_000;
    const cache = createActorCache({ ttlMs: 60_000, maxEntries: 10, now: () => now });
    cache.set('a', entry('u1'), cache.version);
    cache.set('b', entry('u2', new Date(now + 5_000)), cache.version);
    now += 4_999;
    expect(cache.get('a')?.actor.id).toBe('u1');
    expect(cache.get('b')?.actor.id).toBe('u2');
    now += 1;
    expect(cache.get('b')).toBeUndefined();
    now += 55_000;
    expect(cache.get('a')).toBeUndefined();
  });

  it('forgets every credential of a changed user, and refuses to store a lookup that began before a change', () => {
    const cache = createActorCache({ ttlMs: 60_000, maxEntries: 10 });
    cache.set('phone', entry('u1'), cache.version);
    cache.set('laptop', entry('u1'), cache.version);
    cache.set('other', entry('u2'), cache.version);
    const before = cache.version;
    cache.forgetUsers(['u1']);
    expect([cache.get('phone'), cache.get('laptop')]).toEqual([undefined, undefined]);
    expect(cache.get('other')?.actor.id).toBe('u2');
    // Read from the database before the change committed, stored after it was announced: stale.
    cache.set('phone', entry('u1'), before);
    expect(cache.get('phone')).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = createActorCache({ ttlMs: 60_000, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) cache.set(key, entry(key), cache.version);
    expect([cache.get('a'), cache.get('b')?.actor.id, cache.get('c')?.actor.id]).toEqual([undefined, 'b', 'c']);
  });
});

describe.each(backends)('remembered sign-ins follow every change at once on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  it('a promotion ends the session already in use at once, remembered or not', async () => {
    const user = await newUser(app);
    const listUsers = () => request(app.url, 'GET', '/api/users', { token: user.token });
    expect((await listUsers()).status).toBe(403);
    expect(
      (await request(app.url, 'PATCH', `/api/users/${user.id}`, { token: admin.token, body: { role: 'admin' } }))
        .status,
    ).toBe(200);
    expect((await listUsers()).status).toBe(401);
  });
});

// Two servers over one Postgres database and one Redis: a sign-in remembered by one is forgotten
// when the other ends it — within a bus message, not the cache's 60-second TTL.
const sharedRedis = redisUrl && backends.includes('postgres') ? [redisUrl] : [];

describe.each(sharedRedis)('remembered sign-ins across two servers sharing Redis (%s)', (url) => {
  let a: TestApp;
  let b: TestApp;
  const prefix = uniquePrefix('authcache');
  beforeAll(async () => {
    a = await startTestApp('postgres', { redisUrl: url, env: { REDIS_PREFIX: prefix } });
    b = await startTestApp('postgres', { redisUrl: url, env: { REDIS_PREFIX: prefix }, databaseUrl: a.databaseUrl! });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await deleteKeys(url, prefix);
  });

  /** Polls until the status changes from `from`; the time it took. */
  async function untilNot(
    from: number,
    call: () => Promise<{ status: number }>,
  ): Promise<{ status: number; ms: number }> {
    const started = Date.now();
    for (;;) {
      const { status } = await call();
      if (status !== from || Date.now() - started > 5_000) return { status, ms: Date.now() - started };
      await sleep(20);
    }
  }

  it('a logout on one server ends the session on the other', async () => {
    const user = await newUser(a);
    const meOnB = () => request(b.url, 'GET', '/api/me', { token: user.token });
    expect((await meOnB()).status).toBe(200);
    expect((await request(a.url, 'POST', '/api/auth/logout', { token: user.token })).status).toBe(204);
    const after = await untilNot(200, meOnB);
    expect(after.status).toBe(401);
    expect(after.ms).toBeLessThan(2_000);
  });

  it('a role changed on one server ends the sign-in and the personal token on the other', async () => {
    const admin = await newUser(a, { role: 'admin' });
    const user = await newUser(a);
    const { token } = (
      await request(a.url, 'POST', '/api/tokens', { token: user.token, body: { name: 'b', scopes: ['api'] } })
    ).body;
    const listOnB = () => request(b.url, 'GET', '/api/users', { token: user.token });
    const meOnB = () => request(b.url, 'GET', '/api/me', { token });
    expect((await listOnB()).status).toBe(403);
    expect((await meOnB()).status).toBe(200);
    expect(
      (await request(a.url, 'PATCH', `/api/users/${user.id}`, { token: admin.token, body: { role: 'admin' } })).status,
    ).toBe(200);
    const after = await untilNot(403, listOnB);
    expect(after.status).toBe(401);
    expect(after.ms).toBeLessThan(2_000);
    expect((await untilNot(200, meOnB)).status).toBe(401);
  });
});
