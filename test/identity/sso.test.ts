import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { request } from '../support/http.ts';
import { createBrowser, startOidcProvider } from '../support/oidc-provider.ts';

describe.each(backends)('single sign-on against a real OpenID Provider on %s', (backend) => {
  let app: TestApp;
  let idp: Awaited<ReturnType<typeof startOidcProvider>>;

  beforeAll(async () => {
    // The provider must know the redirect URI before the app starts: learn a free port first.
    const probe = await startTestApp(backend);
    const port = new URL(probe.url).port;
    await probe.close();
    idp = await startOidcProvider({
      clientId: 'enclave',
      clientSecret: 'enclave-client-secret-0123456789',
      redirectUri: `http://127.0.0.1:${port}/api/auth/oidc/callback`,
    });
    app = await startTestApp(backend, {
      port: Number(port),
      env: {
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        OIDC_ISSUER: idp.issuer,
        OIDC_CLIENT_ID: 'enclave',
        OIDC_CLIENT_SECRET: 'enclave-client-secret-0123456789',
        OIDC_SCOPES: 'openid email profile groups',
        OIDC_ADMIN_GROUPS: 'enclave-admins',
        OIDC_AGENT_GROUPS: 'support-team',
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await idp?.close();
  });

  async function signIn() {
    const browser = createBrowser();
    const { res, url, trail } = await browser.navigate(`${app.url}/api/auth/oidc/login`);
    const host = new URL(app.url).host;
    return { res, url, trail, session: browser.cookies(host).get('enclave_session') };
  }

  it('advertises SSO to the sign-in page', async () => {
    const config = await request(app.url, 'GET', '/api/auth/config');
    expect(config.body.sso).toEqual({ enabled: true, loginUrl: '/api/auth/oidc/login' });
  });

  it('signs a new person in with code + PKCE, creating them just in time with mapped groups and role', async () => {
    idp.state.account = {
      sub: 'sub-alice',
      email: 'alice@example.test',
      name: 'Alice Zhang',
      groups: ['HR', 'support-team'],
    };
    const { url, trail, session } = await signIn();
    expect(trail.some((u) => u.startsWith(idp.issuer) && u.includes('code_challenge_method=S256'))).toBe(true);
    expect(url.pathname).toBe('/');
    expect(session).toMatch(/^ens_/);

    const me = await request(app.url, 'GET', '/api/me', { token: session });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'alice@example.test', name: 'Alice Zhang', role: 'agent', sso: true });
    expect(me.body.user.groups.map((g: { name: string }) => g.name).sort()).toEqual(['HR', 'support-team']);
  });

  it('re-applies the mapping on every login: new groups and roles take effect, removed ones go', async () => {
    idp.state.account = { sub: 'sub-bob', email: 'bob@example.test', name: 'Bob', groups: ['Finance'] };
    const first = await signIn();
    const me1 = await request(app.url, 'GET', '/api/me', { token: first.session });
    expect(me1.body.user.role).toBe('employee');

    idp.state.account = { ...idp.state.account, groups: ['enclave-admins', 'Legal'] };
    const second = await signIn();
    const me2 = await request(app.url, 'GET', '/api/me', { token: second.session });
    expect(me2.body.user.role).toBe('admin');
    // The role change ended the session started under the old role.
    expect((await request(app.url, 'GET', '/api/me', { token: first.session })).status).toBe(401);
    expect(me2.body.user.groups.map((g: { name: string }) => g.name).sort()).toEqual(['Legal', 'enclave-admins']);

    const audit = await request(app.url, 'GET', `/api/admin/audit?actorId=${me2.body.user.id}`, {
      token: second.session,
    });
    const actions = audit.body.items.map((i: { action: string }) => i.action);
    expect(actions).toContain('user.role.changed');
    expect(actions.filter((a: string) => a === 'auth.login.succeeded')).toHaveLength(2);
  });

  it('keeps memberships an admin added by hand when SSO groups change', async () => {
    idp.state.account = { sub: 'sub-carol', email: 'carol@example.test', name: 'Carol', groups: ['Sales'] };
    const { session } = await signIn();
    const me = await request(app.url, 'GET', '/api/me', { token: session });
    const manual = await app.services.db.query<{ id: string }>(
      `INSERT INTO groups (name) VALUES ('Project X') RETURNING id`,
    );
    await app.services.db.query(`INSERT INTO user_groups (user_id, group_id, source) VALUES ($1, $2, 'manual')`, [
      me.body.user.id,
      manual.rows[0]!.id,
    ]);
    idp.state.account = { ...idp.state.account, groups: [] };
    const again = await signIn();
    const after = await request(app.url, 'GET', '/api/me', { token: again.session });
    expect(after.body.user.groups.map((g: { name: string }) => g.name)).toEqual(['Project X']);
  });

  it('refuses a disabled account and a callback without the pending sign-in', async () => {
    idp.state.account = { sub: 'sub-dave', email: 'dave@example.test', name: 'Dave', groups: [] };
    const first = await signIn();
    expect(first.session).toBeDefined();
    await app.services.db.query(`UPDATE users SET disabled = true WHERE email = 'dave@example.test'`);
    const second = await signIn();
    expect(second.url.pathname).toBe('/login');
    expect(second.url.searchParams.get('error')).toBe('account_disabled');
    expect(second.session).toBeUndefined();

    const forged = await fetch(`${app.url}/api/auth/oidc/callback?code=abc&state=xyz`, { redirect: 'manual' });
    expect(forged.status).toBe(302);
    expect(forged.headers.get('location')).toBe('/login?error=sso_state_missing');
  });
});
