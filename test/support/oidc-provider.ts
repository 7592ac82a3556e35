import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestAccount {
  sub: string;
  email: string;
  name: string;
  groups: string[];
}

/**
 * A real, certified OpenID Provider (the `oidc-provider` package) on loopback. Its interaction
 * step signs in as `provider.account` without a form, standing in for a person at the IdP.
 */
export async function startOidcProvider(options: { clientId: string; clientSecret: string; redirectUri: string }) {
  const state: { account: TestAccount } = {
    account: { sub: 'alice', email: 'alice@example.test', name: 'Alice', groups: [] },
  };
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({
        sub,
        email: state.account.email,
        email_verified: true,
        name: state.account.name,
        groups: state.account.groups,
      }),
    }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  });
  // Loopback http: let the provider accept non-TLS requests.
  provider.proxy = true;

  const callback = provider.callback();
  server.on('request', async (req, res) => {
    const match = /^\/interaction\/([^/?]+)/.exec(req.url ?? '');
    if (!match) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const accountId = state.account.sub;
      let result: Record<string, unknown>;
      if (details.prompt.name === 'login') {
        result = { login: { accountId } };
      } else {
        const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
        const grant = existing ?? new provider.Grant({ accountId, clientId: String(details.params.client_id) });
        grant.addOIDCScope(String(details.params.scope));
        result = { consent: { grantId: await grant.save() } };
      }
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  });

  return {
    issuer,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A browser stand-in: follows redirects by hand, keeping cookies per host. */
export function createBrowser() {
  const jar = new Map<string, Map<string, string>>();
  function store(url: URL, res: Response) {
    const cookies = jar.get(url.host) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') cookies.delete(name!.trim());
      else cookies.set(name!.trim(), value);
    }
    jar.set(url.host, cookies);
  }
  return {
    cookies: (host: string) => jar.get(host) ?? new Map<string, string>(),
    /** GETs `start` and follows up to 20 redirects; returns the final response and URL. */
    async navigate(start: string): Promise<{ res: Response; url: URL; trail: string[] }> {
      let url = new URL(start);
      const trail: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        trail.push(url.href);
        const cookie = [...(jar.get(url.host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
        const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
        store(url, res);
        const location = res.headers.get('location');
        if (res.status < 300 || res.status >= 400 || !location) return { res, url, trail };
        url = new URL(location, url);
      }
      throw new Error(`Too many redirects: ${trail.join(' → ')}`);
    },
  };
}
