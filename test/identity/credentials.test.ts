import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { sleep } from '../support/wait.ts';
import { connectSocket } from '../support/ws-client.ts';
import { expectError, sql } from './helpers.ts';

/** Issue 17 finding 3: what ends a user's access, and what a personal API token may do. */
describe.each(backends)('credentials: revocation and token scopes on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  const me = (token: string) => request(app.url, 'GET', '/api/me', { token });
  const createToken = (token: string, body: Record<string, unknown>) =>
    request(app.url, 'POST', '/api/tokens', { token, body });
  const patchUser = (id: string, body: Record<string, unknown>) =>
    request(app.url, 'PATCH', `/api/users/${id}`, { token: admin.token, body });

  const changes: [string, Record<string, unknown>][] = [
    ['a password reset', { password: 'a brand new passphrase 42' }],
    ['a promotion', { role: 'agent' }],
    ['a demotion', { role: 'employee' }],
    ['disabling', { disabled: true }],
  ];

  it.each(changes)('%s ends every session, token and open socket of the user', async (_what, change) => {
    const user = await newUser(app, { role: change.role === 'employee' ? 'agent' : 'employee' });
    const created = await createToken(user.token, { name: 'integration', scopes: ['chat', 'api'] });
    expect(created.status).toBe(201);
    const apiToken = created.body.token as string;
    expect((await me(apiToken)).status).toBe(200);
    const sessionSocket = await connectSocket(app.url, user.token);
    const tokenSocket = await connectSocket(app.url, apiToken);

    expect((await patchUser(user.id, change)).status).toBe(200);

    expectError(await me(user.token), 401, 'unauthorized');
    expectError(await me(apiToken), 401, 'unauthorized');
    expect((await request(app.url, 'GET', '/v1/models', { token: apiToken })).status).toBe(401);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('socket stayed open')), 3000));
    expect((await Promise.race([sessionSocket.closed, timeout])).code).toBe(4001);
    expect((await Promise.race([tokenSocket.closed, timeout])).code).toBe(4001);
    await expect(connectSocket(app.url, apiToken)).rejects.toThrow(/401/);
    // The token list says so too: nothing live is left.
    const relisted = await sql(app, 'SELECT 1 FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL', [user.id]);
    expect(relisted).toEqual([]);
  });

  it('a token cannot create tokens, whatever its scopes', async () => {
    const user = await newUser(app);
    const { token } = (await createToken(user.token, { name: 'full', scopes: ['chat', 'api'] })).body;
    expectError(await createToken(token as string, { name: 'offspring', scopes: ['api'] }), 403, 'forbidden');
    expectError(await createToken(token as string, { name: 'offspring' }), 403, 'forbidden');
    const [{ n }] = (await sql<{ n: number }>(app, 'SELECT count(*)::int AS n FROM api_tokens WHERE user_id = $1', [
      user.id,
    ])) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('a chat-only token works on /v1 but not on the REST API or the WebSocket; an api token the other way round', async () => {
    const user = await newUser(app);
    const chat = (await createToken(user.token, { name: 'chat only', scopes: ['chat'] })).body.token as string;
    expect((await request(app.url, 'GET', '/v1/models', { token: chat })).status).toBe(200);
    expectError(await request(app.url, 'GET', '/api/conversations', { token: chat }), 403, 'insufficient_scope');
    expectError(await me(chat), 403, 'insufficient_scope');
    await expect(connectSocket(app.url, chat)).rejects.toThrow(/403/);

    const api = (await createToken(user.token, { name: 'api only', scopes: ['api'] })).body.token as string;
    expect((await request(app.url, 'GET', '/api/conversations', { token: api })).status).toBe(200);
    const socket = await connectSocket(app.url, api);
    await socket.close();
    const v1 = await request(app.url, 'GET', '/v1/models', { token: api });
    expect(v1.status).toBe(403);
    expect(v1.body.error).toMatchObject({ code: 'insufficient_scope', type: expect.any(String) });
  });

  it('a new token without scopes or expiry is chat-only and expires in 90 days', async () => {
    const user = await newUser(app);
    const { apiToken, token } = (await createToken(user.token, { name: 'defaults' })).body;
    expect(apiToken.scopes).toEqual(['chat']);
    const days = (Date.parse(apiToken.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    expectError(await request(app.url, 'GET', '/api/conversations', { token }), 403, 'insufficient_scope');
  });

  it('an expired token is refused on /v1 and /api', async () => {
    const user = await newUser(app);
    const { apiToken, token } = (
      await createToken(user.token, { name: 'short', scopes: ['chat', 'api'], expiresInDays: 1 })
    ).body;
    // Expiring a second from now (before first use, so the remembered sign-in knows its end too).
    await sql(app, `UPDATE api_tokens SET expires_at = now() + interval '1 second' WHERE id = $1`, [apiToken.id]);
    expect((await request(app.url, 'GET', '/v1/models', { token })).status).toBe(200);
    await sleep(1100);
    expect((await request(app.url, 'GET', '/v1/models', { token })).status).toBe(401);
    expectError(await me(token as string), 401, 'unauthorized');
  });

  it('the owner’s token list shows scopes, expiry and when each token was last used', async () => {
    const user = await newUser(app);
    const used = (await createToken(user.token, { name: 'used', scopes: ['chat'], expiresInDays: 30 })).body;
    const idle = (await createToken(user.token, { name: 'idle', scopes: ['api'] })).body;
    const listed = async () =>
      (await request(app.url, 'GET', '/api/tokens', { token: user.token })).body.items as Record<string, unknown>[];
    expect((await listed()).map((t) => t.lastUsedAt)).toEqual([null, null]);

    const before = Date.now();
    expect((await request(app.url, 'GET', '/v1/models', { token: used.token })).status).toBe(200);
    const items = await listed();
    const byName = Object.fromEntries(items.map((t) => [t.name, t]));
    expect(byName.used).toMatchObject({ scopes: ['chat'], expiresAt: used.apiToken.expiresAt });
    expect(Date.parse(byName.used!.lastUsedAt as string)).toBeGreaterThanOrEqual(before - 1000);
    expect(byName.idle).toMatchObject({ scopes: ['api'], lastUsedAt: null, expiresAt: idle.apiToken.expiresAt });
  });
});
