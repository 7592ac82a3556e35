import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config.ts';
import { createApp } from '../../server/src/http/app.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, TEST_PASSWORD, type TestUser } from '../support/fixtures.ts';
import { request, type ApiResponse } from '../support/http.ts';
import { expectError, freshIp, login, sql } from './helpers.ts';

const WRONG = 'wrong password, wrong password';

function retryAfter(res: ApiResponse): number {
  const header = res.headers.get('retry-after');
  expect(header, 'Retry-After header').toMatch(/^\d+$/);
  return Number(header);
}

describe.each(backends)('sign-in throttling on %s', (backend) => {
  let app: TestApp;
  let victim: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    victim = await newUser(app);
  });
  afterAll(() => app?.close());

  const failTimes = async (email: string, ip: string, times: number) => {
    for (let i = 0; i < times; i += 1) expectError(await login(app, email, WRONG, { ip }), 401, 'invalid_credentials');
  };
  const expireLocks = (pattern: string) =>
    sql(app, `UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE key LIKE $1`, [pattern]);

  it('locks one account from one address after 5 wrong passwords: 429, Retry-After ≤ 60, even for the right password', async () => {
    const attacker = freshIp();
    await failTimes(victim.email, attacker, 5);
    const locked = await login(app, victim.email, TEST_PASSWORD, { ip: attacker });
    expectError(locked, 429, 'too_many_attempts');
    const seconds = retryAfter(locked);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(locked.body.error.message).toContain(String(seconds));
    // Still locked for further guesses; no session was made.
    expectError(await login(app, victim.email, WRONG, { ip: attacker }), 429, 'too_many_attempts');

    // The owner, from their own address, is not locked out; req.ip really is the forwarded address.
    const home = freshIp();
    const res = await login(app, victim.email, TEST_PASSWORD, { ip: home });
    expect(res.status).toBe(200);
    const sessions = await request(app.url, 'GET', '/api/auth/sessions', { token: res.body.token });
    expect(sessions.body.items.find((s: { current: boolean }) => s.current).ip).toBe(home);
    const recorded = await sql<{ key: string }>(app, 'SELECT key FROM login_throttle WHERE key LIKE $1', [
      `%${attacker}`,
    ]);
    expect(recorded.map((r) => r.key).sort()).toEqual([`ip:${attacker}`, `pair:${victim.email}|${attacker}`].sort());

    // When the lock runs out, the right password works again from that address and clears its history.
    await expireLocks(`pair:%|${attacker}`);
    expect((await login(app, victim.email, TEST_PASSWORD, { ip: attacker })).status).toBe(200);
    await failTimes(victim.email, attacker, 4);
    expect((await login(app, victim.email, TEST_PASSWORD, { ip: attacker })).status).toBe(200);
  });

  it('throttles unknown emails exactly like real ones (no enumeration through the lock)', async () => {
    const ip = freshIp();
    const ghost = `ghost-${ip}@example.test`;
    await failTimes(ghost, ip, 5);
    const locked = await login(app, ghost, WRONG, { ip });
    expectError(locked, 429, 'too_many_attempts');
    expect(retryAfter(locked)).toBeLessThanOrEqual(60);
  });

  it('escalates repeat lock-outs but never beyond 15 minutes', async () => {
    const user = await newUser(app);
    const ip = freshIp();
    await failTimes(user.email, ip, 5);
    expect(retryAfter(await login(app, user.email, WRONG, { ip }))).toBeLessThanOrEqual(60);

    await expireLocks(`pair:%|${ip}`);
    await failTimes(user.email, ip, 5);
    const second = retryAfter(await login(app, user.email, WRONG, { ip }));
    expect(second).toBeGreaterThan(60);
    expect(second).toBeLessThanOrEqual(120);

    // Many lock-outs later (driven up directly), the lock is still capped at 15 minutes.
    await sql(
      app,
      `UPDATE login_throttle SET lockouts = 1000, failures = 0, locked_until = now() - interval '1 second' WHERE key LIKE $1`,
      [`pair:%|${ip}`],
    );
    await failTimes(user.email, ip, 5);
    const capped = retryAfter(await login(app, user.email, WRONG, { ip }));
    expect(capped).toBeGreaterThan(800);
    expect(capped).toBeLessThanOrEqual(900);

    // Even then the owner's right password from elsewhere works.
    expect((await login(app, user.email, TEST_PASSWORD, { ip: freshIp() })).status).toBe(200);
  });

  it('gives parallel guesses no more than the 5 tries sequential ones get', async () => {
    const user = await newUser(app);
    const ip = freshIp();
    const answers = await Promise.all(Array.from({ length: 16 }, () => login(app, user.email, WRONG, { ip })));
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.every((s) => s === 401 || s === 429),
      String(statuses),
    ).toBe(true);
    // Each 401 is a password actually tried against the hash.
    expect(statuses.filter((s) => s === 401).length, String(statuses)).toBeLessThanOrEqual(5);
    expect(answers.filter((a) => a.status === 429).every((a) => retryAfter(a) <= 60)).toBe(true);
    expectError(await login(app, user.email, TEST_PASSWORD, { ip }), 429, 'too_many_attempts');
  });

  it('locks an account guessed at from many addresses, but not for its owner at an address they signed in from before', async () => {
    const user = await newUser(app);
    const home = freshIp();
    expect((await login(app, user.email, TEST_PASSWORD, { ip: home })).status).toBe(200);
    // A distributed guess: 50 addresses, one wrong password each, ten at a time.
    for (let batch = 0; batch < 5; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => login(app, user.email, WRONG, { ip: freshIp() })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(401));
    }
    // Fresh addresses are now refused for 15 minutes, even with the right password…
    const stranger = await login(app, user.email, TEST_PASSWORD, { ip: freshIp() });
    expectError(stranger, 429, 'too_many_attempts');
    expect(retryAfter(stranger)).toBeLessThanOrEqual(900);
    // …but an attacker cannot keep the owner out: from their usual address they still get in.
    const owner = await login(app, user.email, TEST_PASSWORD, { ip: home });
    expect(owner.status, JSON.stringify(owner.body)).toBe(200);
    // While a wrong password from that address still counts as a failure.
    expectError(await login(app, user.email, WRONG, { ip: home }), 401, 'invalid_credentials');
  });

  it('trusts X-Forwarded-For only from the configured proxies (TRUST_PROXY, loopback by default)', async () => {
    expect(loadConfig({}).trustProxy).toEqual(['loopback']);
    expect(loadConfig({ TRUST_PROXY: 'none' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.0.2.1, uniquelocal' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.0.2.1',
      'uniquelocal',
    ]);
    for (const bad of ['everyone', '10.0.0.0/99', '10.0.0.1/8/1', 'true'])
      expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(ConfigError);

    // The same application over the same services, configured with its proxy elsewhere: the
    // loopback test client is then an ordinary client, as an employee's machine on the LAN is.
    const direct = createApp(
      { ...app.services, config: { ...app.services.config, trustProxy: ['10.0.0.0/8', '192.0.2.1'] } },
      app.domain,
    );
    const server = direct.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const other = { ...app, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    try {
      const user = await newUser(app);
      // It cannot pick a fresh address per guess…
      for (let i = 0; i < 5; i += 1) await login(other, user.email, WRONG, { ip: freshIp() });
      expectError(await login(other, user.email, TEST_PASSWORD, { ip: freshIp() }), 429, 'too_many_attempts');
      // …nor put a made-up one into the audit log.
      const [row] = await sql<{ ip: string }>(
        app,
        `SELECT ip FROM audit_log WHERE action = 'auth.login.failed' ORDER BY id DESC LIMIT 1`,
      );
      expect(row!.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
