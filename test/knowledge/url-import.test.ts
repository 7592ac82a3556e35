import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { chunksOf, newCollection, search, settled } from './helpers.ts';

const page = (title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;

/** A small intranet on loopback: every request is counted, so the tests see what was fetched. */
function intranet() {
  const hits: string[] = [];
  let base = '';
  const routes: Record<
    string,
    () => { status?: number; type?: string; location?: string; body: string | Buffer; delayMs?: number }
  > = {
    '/index.html': () => ({
      body: page(
        'Intranet home',
        '<h1>Welcome</h1><p>Start here.</p><a href="/a.html">A</a> <a href="b.html#top">B</a> <a href="http://offsite.invalid/x.html">elsewhere</a> <a href="/c.html">C</a>',
      ),
    }),
    '/a.html': () => ({
      body: page('Canteen menu', '<p>The canteen serves ramen on Fridays.</p><a href="/deep.html">deeper</a>'),
    }),
    '/b.html': () => ({ body: page('Gym rules', '<p>The gym is open to employees from 6:00.</p>') }),
    '/c.html': () => ({ body: page('Library', '<p>The library lends laptops.</p>') }),
    '/deep.html': () => ({ body: page('Deep page', '<p>Only reachable two links away.</p>') }),
    '/doc.txt': () => ({ type: 'text/plain', body: 'Plain text policy: badges at all times.' }),
    '/metadata-redirect': () => ({ status: 302, location: 'http://169.254.169.254/latest/meta-data/', body: '' }),
    '/unspecified-redirect': () => ({ status: 302, location: `http://0.0.0.0:${new URL(base).port}/a.html`, body: '' }),
    '/data-redirect': () => ({
      status: 302,
      location: 'data:text/html,<title>Injected</title><p>Planted by a redirect.</p>',
      body: '',
    }),
    '/slow.html': () => ({ body: page('Slow', '<p>late</p>'), delayMs: 3000 }),
    '/big.html': () => ({ body: page('Big', `<p>${'x'.repeat(1024 * 1024 + 100)}</p>`) }),
    '/sitemap.xml': () => ({
      type: 'application/xml',
      body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>${base}/a.html</loc></url><url><loc>${base}/b.html</loc></url></urlset>`,
    }),
  };
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes[(req.url ?? '').split('?')[0]!];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    const r = route();
    setTimeout(() => {
      if (res.destroyed) return;
      res
        .writeHead(r.status ?? 200, {
          'content-type': r.type ?? 'text/html; charset=utf-8',
          ...(r.location ? { location: r.location } : {}),
        })
        .end(r.body);
    }, r.delayMs ?? 0);
  });
  return {
    hits,
    server,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return base;
    },
  };
}

describe.each(backends)('URL import and site crawl on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let site: ReturnType<typeof intranet>;
  let base: string;

  beforeAll(async () => {
    // The intranet below is on loopback, which imports reach only when the allow-list names it.
    app = await startTestApp(backend, {
      env: { FETCH_TIMEOUT_MS: '1000', MAX_UPLOAD_MB: '1', URL_IMPORT_ALLOW_PRIVATE: 'loopback' },
    });
    admin = await newUser(app, { role: 'admin' });
    site = intranet();
    base = await site.start();
  });
  afterAll(async () => {
    site?.server.closeAllConnections();
    await new Promise((resolve) => site?.server.close(resolve));
    await app?.close();
  });

  const importUrl = (collectionId: string, body: Record<string, unknown>) =>
    request(app.url, 'POST', `/api/collections/${collectionId}/documents`, { token: admin.token, body });

  it('imports one page with its title and keeps it for download', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Single' });
    const res = await importUrl(collection, { url: `${base}/a.html` });
    expect(res.status).toBe(202);
    const doc = await settled(app, admin.token, res.body.document.id);
    expect(doc).toMatchObject({
      status: 'ready',
      source: 'url',
      sourceUrl: `${base}/a.html`,
      title: 'Canteen menu',
      mime: 'text/html',
      hasFile: true,
    });
    expect((await chunksOf(app, admin.token, doc.id))[0]!.text).toContain('The canteen serves ramen on Fridays.');
    const again = await importUrl(collection, { url: `${base}/a.html` });
    expect(again.body).toMatchObject({ duplicate: true, document: { id: doc.id } });
    const text = await importUrl(collection, { url: `${base}/doc.txt` });
    expect((await settled(app, admin.token, text.body.document.id)).status).toBe('ready');
  });

  it('crawls the same site breadth-first within depth and page limits', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Crawl' });
    site.hits.length = 0;
    const res = await importUrl(collection, { url: `${base}/index.html`, crawl: { depth: 1, maxPages: 3 } });
    const root = await settled(app, admin.token, res.body.document.id);
    expect(root.status).toBe('ready');
    const docs = await request(app.url, 'GET', `/api/collections/${collection}/documents`, { token: admin.token });
    await Promise.all(docs.body.items.map((d: { id: string }) => settled(app, admin.token, d.id)));
    const all = (await request(app.url, 'GET', `/api/collections/${collection}/documents`, { token: admin.token })).body
      .items;
    expect(all.map((d: { title: string }) => d.title).sort()).toEqual(['Canteen menu', 'Gym rules', 'Intranet home']);
    expect(all.filter((d: { parentId: string | null }) => d.parentId === root.id)).toHaveLength(2);
    expect(all.every((d: { status: string }) => d.status === 'ready')).toBe(true);
    // Never off-site, never past the page limit, never two links deep.
    expect(site.hits.some((h) => h.includes('deep') || h.includes('c.html'))).toBe(false);
    expect((await search(app, admin.token, 'when is the gym open', { collectionIds: [collection] }))[0]!.title).toBe(
      'Gym rules',
    );
  });

  it('narrows the pages crawled from a start page when the start page is narrowed', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Crawl narrowed' });
    const group = await request(app.url, 'POST', '/api/groups', {
      token: admin.token,
      body: { name: `Gym staff ${Date.now()}` },
    });
    const reader = await newUser(app);
    const res = await importUrl(collection, { url: `${base}/index.html`, crawl: { depth: 1, maxPages: 3 } });
    const root = await settled(app, admin.token, res.body.document.id);
    const docs = await request(app.url, 'GET', `/api/collections/${collection}/documents`, { token: admin.token });
    await Promise.all(docs.body.items.map((d: { id: string }) => settled(app, admin.token, d.id)));
    const gym = async () =>
      (await search(app, reader.token, 'when is the gym open', { collectionIds: [collection] })).map((h) => h.title);
    expect(await gym()).toContain('Gym rules');

    const narrowed = await request(app.url, 'PATCH', `/api/documents/${root.id}`, {
      token: admin.token,
      body: { readers: 'groups', groups: [group.body.group.id] },
    });
    expect(narrowed.status).toBe(200);
    expect(await gym()).not.toContain('Gym rules');
  });

  it('follows a sitemap', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Sitemap' });
    const res = await importUrl(collection, { url: `${base}/sitemap.xml`, crawl: { depth: 1, maxPages: 10 } });
    await settled(app, admin.token, res.body.document.id);
    const items = (await request(app.url, 'GET', `/api/collections/${collection}/documents`, { token: admin.token }))
      .body.items;
    await Promise.all(items.map((d: { id: string }) => settled(app, admin.token, d.id)));
    const titles = (
      await request(app.url, 'GET', `/api/collections/${collection}/documents`, { token: admin.token })
    ).body.items.map((d: { title: string }) => d.title);
    expect(titles).toEqual(expect.arrayContaining(['Canteen menu', 'Gym rules']));
  });

  it('fails an import that times out, is too large or is missing, with a readable error', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Failures' });
    const [slow, big, missing] = (await Promise.all(
      ['/slow.html', '/big.html', '/missing.html'].map(
        async (p) => (await importUrl(collection, { url: `${base}${p}` })).body.document.id as string,
      ),
    )) as [string, string, string];
    const missingDoc = await settled(app, admin.token, missing);
    expect(missingDoc).toMatchObject({ status: 'failed' });
    expect(missingDoc.error).toMatch(/HTTP 404/);
    const bigDoc = await settled(app, admin.token, big);
    expect(bigDoc.error).toMatch(/larger than the limit/);
    // A timeout is transient: retried with backoff, then failed.
    const slowDoc = await settled(app, admin.token, slow, 60_000);
    expect(slowDoc.status).toBe('failed');
    expect(slowDoc.error).toMatch(/timed out/);
  }, 90_000);

  it('refuses URLs that are not http(s)', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Bad' });
    expect((await importUrl(collection, { url: 'file:///etc/passwd' })).status).toBe(400);
  });

  it('never reaches a link-local metadata address, directly or through a redirect', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Metadata' });
    for (const url of ['http://169.254.169.254/latest/meta-data/', `${base}/metadata-redirect`, 'http://[fe80::1]/']) {
      const doc = await settled(app, admin.token, (await importUrl(collection, { url })).body.document.id as string);
      expect(doc.status).toBe('failed');
      expect(doc.error).toMatch(/link-local or unspecified address/);
    }
  });

  it('checks every redirect: never to a data: URL, never to the unspecified address', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Redirects' });
    const data = await settled(
      app,
      admin.token,
      (await importUrl(collection, { url: `${base}/data-redirect` })).body.document.id as string,
    );
    expect(data).toMatchObject({ status: 'failed' });
    expect(data.error).toMatch(/redirects to a data: URL/);
    const unspecified = await settled(
      app,
      admin.token,
      (await importUrl(collection, { url: `${base}/unspecified-redirect` })).body.document.id as string,
    );
    expect(unspecified).toMatchObject({ status: 'failed' });
    expect(unspecified.error).toMatch(/link-local or unspecified address/);
  });

  it("refuses to import Enclave's own endpoints, on any local name of its port", async () => {
    const collection = await newCollection(app, admin.token, { name: 'Self' });
    const port = new URL(app.url).port;
    for (const url of [`${app.url}/metrics`, `http://localhost:${port}/healthz`, `http://127.0.0.2:${port}/metrics`]) {
      const doc = await settled(app, admin.token, (await importUrl(collection, { url })).body.document.id as string);
      expect(doc, url).toMatchObject({ status: 'failed' });
      expect(doc.error).toMatch(/is Enclave itself/);
    }
  });
});
