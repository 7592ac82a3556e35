import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';
import { newCollection, search, settled } from './helpers.ts';

const html = (title: string, body: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;

interface Page {
  body: string;
  etag?: string;
}

/** An intranet on loopback whose pages the test edits and removes between refreshes; requests are recorded. */
function changingSite() {
  const pages = new Map<string, Page>();
  const requests: { path: string; headers: IncomingMessage['headers']; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const page = pages.get(path);
    const answer = (status: number, body = '', headers: Record<string, string> = {}) => {
      requests.push({ path, headers: req.headers, status });
      res.writeHead(status, headers).end(body);
    };
    if (!page) return answer(404, 'not found');
    if (page.etag && req.headers['if-none-match'] === page.etag) return answer(304);
    const type = path.endsWith('.txt') ? 'text/plain' : 'text/html; charset=utf-8';
    answer(200, page.body, { 'content-type': type, ...(page.etag ? { etag: page.etag } : {}) });
  });
  return {
    pages,
    requests,
    server,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
  };
}

describe.each(backends)('sources kept in step with their pages on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let site: ReturnType<typeof changingSite>;
  let base: string;
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;

  beforeAll(async () => {
    model = await startFakeOpenAi();
    app = await startTestApp(backend, {
      env: {
        URL_IMPORT_ALLOW_PRIVATE: 'loopback',
        FETCH_TIMEOUT_MS: '2000',
        // A remote embedder on loopback, so the test counts what is embedded.
        EMBEDDING_MODEL: 'fake-embed',
        EMBEDDING_BASE_URL: model.baseUrl,
        EMBEDDING_DIMENSIONS: '64',
      },
    });
    admin = await newUser(app, { role: 'admin', name: 'Ada Admin' });
    site = changingSite();
    base = await site.start();
  });
  afterAll(async () => {
    site?.server.closeAllConnections();
    await new Promise((resolve) => site?.server.close(resolve));
    await app?.close();
    await model?.close();
  });

  const importUrl = (collectionId: string, body: Record<string, unknown>) =>
    request(app.url, 'POST', `/api/collections/${collectionId}/documents`, { token: admin.token, body });
  const documentsOf = async (collectionId: string) =>
    (await request(app.url, 'GET', `/api/collections/${collectionId}/documents`, { token: admin.token })).body
      .items as {
      id: string;
      title: string;
      status: string;
      enabled: boolean;
      retiredReason: string | null;
      sourceUrl: string;
    }[];
  const versionsOf = async (documentId: string) =>
    (await request(app.url, 'GET', `/api/documents/${documentId}/versions`, { token: admin.token })).body.items as {
      number: number;
      origin: string;
      createdBy: { name: string } | null;
    }[];
  const sourceOf = async (sourceId: string) =>
    (await request(app.url, 'GET', `/api/sources/${sourceId}`, { token: admin.token })).body.source;

  /** Waits for the source's `count`-th run to finish, then for its documents' indexing. */
  async function runFinished(sourceId: string, collectionId: string, count: number) {
    const source = await until(
      async () => {
        const s = await sourceOf(sourceId);
        return !s.running && s.runs.length >= count ? s : undefined;
      },
      `run ${count} of source ${sourceId}`,
      30_000,
    );
    await until(
      async () => (await documentsOf(collectionId)).every((d) => d.status === 'ready' || d.status === 'failed'),
      'the documents to be indexed',
      30_000,
    );
    return source;
  }

  const refreshNow = (sourceId: string) =>
    request(app.url, 'POST', `/api/sources/${sourceId}/refresh`, { token: admin.token });

  it('an edited page becomes a new version of the same document: search returns only the new text', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Parking' });
    site.pages.set('/parking.html', { body: html('Parking', '<p>Visitors park in garage B, level two.</p>') });
    const res = await importUrl(collection, { url: `${base}/parking.html` });
    const doc = await settled(app, admin.token, res.body.document.id);
    expect(doc.sourceId).toBeTruthy();

    site.pages.set('/parking.html', {
      body: html('Parking', '<p>Visitors park in garage C, level one, since May.</p>'),
    });
    expect((await refreshNow(doc.sourceId)).status).toBe(202);
    const source = await runFinished(doc.sourceId, collection, 1);
    expect(source.lastRun).toMatchObject({ status: 'ok', updated: 1, added: 0, retired: 0 });

    const docs = await documentsOf(collection);
    expect(docs.map((d) => d.id)).toEqual([doc.id]);
    const versions = await versionsOf(doc.id);
    expect(versions.map((v) => v.number)).toEqual([2, 1]);
    expect(versions[0]).toMatchObject({ origin: 'refresh', createdBy: { name: 'Ada Admin' } });
    const hits = await search(app, admin.token, 'where do visitors park garage', { collectionIds: [collection] });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.documentId === doc.id && h.text.includes('garage C'))).toBe(true);

    // Importing the same URL again: the same document, a new version when the page changed.
    site.pages.set('/parking.html', { body: html('Parking', '<p>Visitors park in garage D from June.</p>') });
    const again = await importUrl(collection, { url: `${base}/parking.html` });
    expect(again.body).toMatchObject({ duplicate: true, document: { id: doc.id } });
    await runFinished(doc.sourceId, collection, 2);
    expect((await versionsOf(doc.id))[0]).toMatchObject({ number: 3, origin: 'reimport' });

    // Re-index fetches the page again (not the stored snapshot).
    site.pages.set('/parking.html', { body: html('Parking', '<p>Visitors park in garage E now.</p>') });
    expect((await request(app.url, 'POST', `/api/documents/${doc.id}/reindex`, { token: admin.token })).status).toBe(
      202,
    );
    await runFinished(doc.sourceId, collection, 3);
    expect((await versionsOf(doc.id))[0]).toMatchObject({ number: 4, origin: 'reindex' });
    const latest = await search(app, admin.token, 'visitors park garage', { collectionIds: [collection] });
    expect(latest.map((h) => h.text).join(' ')).toContain('garage E');
    expect(latest.map((h) => h.text).join(' ')).not.toMatch(/garage [BCD]/);
    expect((await documentsOf(collection)).length).toBe(1);

    const audit = await request(app.url, 'GET', `/api/admin/audit?action=document.version_created`, {
      token: admin.token,
    });
    expect(audit.body.items.filter((e: { target: { id: string } }) => e.target.id === doc.id)).toHaveLength(3);
  });

  it('an unchanged page makes no version and embeds nothing: by ETag (304) or by content hash', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Unchanged' });
    site.pages.set('/tagged.html', { body: html('Canteen', '<p>The canteen opens at noon.</p>'), etag: '"v1"' });
    site.pages.set('/untagged.html', { body: html('Gym', '<p>The gym opens at six.</p>') });
    const tagged = await settled(
      app,
      admin.token,
      (await importUrl(collection, { url: `${base}/tagged.html` })).body.document.id,
    );
    const untagged = await settled(
      app,
      admin.token,
      (await importUrl(collection, { url: `${base}/untagged.html` })).body.document.id,
    );
    const embedded = model.embeddingInputs.length;
    site.requests.length = 0;

    await refreshNow(tagged.sourceId);
    await refreshNow(untagged.sourceId);
    const a = await runFinished(tagged.sourceId, collection, 1);
    const b = await runFinished(untagged.sourceId, collection, 1);
    expect(a.lastRun).toMatchObject({ status: 'ok', unchanged: 1, updated: 0 });
    expect(b.lastRun).toMatchObject({ status: 'ok', unchanged: 1, updated: 0 });
    // The tagged page was asked for with its ETag and answered 304; the other was compared by hash.
    expect(site.requests.find((r) => r.path === '/tagged.html')).toMatchObject({
      status: 304,
      headers: { 'if-none-match': '"v1"' },
    });
    expect(model.embeddingInputs.length).toBe(embedded);
    expect((await versionsOf(tagged.id)).length).toBe(1);
    expect((await versionsOf(untagged.id)).length).toBe(1);
  });

  it('a crawled site: new pages added, changed ones updated, vanished ones retired; robots.txt kept', async () => {
    const collection = await newCollection(app, admin.token, { name: 'Site' });
    site.pages.set('/site/index.html', {
      body: html(
        'Handbook',
        '<p>Handbook home.</p><a href="/site/a.html">A</a> <a href="/site/b.html">B</a> <a href="/site/private/pay.html">Pay</a>',
      ),
    });
    site.pages.set('/site/a.html', { body: html('Badges', '<p>Badges are blue.</p>') });
    site.pages.set('/site/b.html', { body: html('Lockers', '<p>Lockers are on floor nine.</p>') });
    site.pages.set('/site/private/pay.html', { body: html('Pay', '<p>Salaries.</p>') });
    site.pages.set('/robots.txt', { body: 'User-agent: *\nDisallow: /site/private/\n' });
    site.requests.length = 0;
    const res = await importUrl(collection, { url: `${base}/site/index.html`, crawl: { depth: 1, maxPages: 10 } });
    const root = await settled(app, admin.token, res.body.document.id);
    await until(async () => (await documentsOf(collection)).length === 3, 'the crawl', 30_000);
    await runFinished(root.sourceId, collection, 0);
    expect((await search(app, admin.token, 'lockers floor nine', { collectionIds: [collection] }))[0]?.title).toBe(
      'Lockers',
    );

    site.pages.set('/site/index.html', {
      body: html(
        'Handbook',
        '<p>Handbook home.</p><a href="/site/a.html">A</a> <a href="/site/b.html">B</a> <a href="/site/c.html">C</a> <a href="/site/private/pay.html">Pay</a>',
      ),
    });
    site.pages.set('/site/a.html', { body: html('Badges', '<p>Badges are green from March.</p>') });
    site.pages.delete('/site/b.html');
    site.pages.set('/site/c.html', { body: html('Bikes', '<p>Bikes park behind building four.</p>') });

    await refreshNow(root.sourceId);
    const source = await runFinished(root.sourceId, collection, 1);
    expect(source.lastRun).toMatchObject({ status: 'ok', added: 1, updated: 2, retired: 1 });
    expect(site.requests.some((r) => r.path.startsWith('/site/private/'))).toBe(false);

    const docs = await documentsOf(collection);
    expect(docs.map((d) => d.title).sort()).toEqual(['Badges', 'Bikes', 'Handbook', 'Lockers']);
    const lockers = docs.find((d) => d.title === 'Lockers')!;
    expect(lockers).toMatchObject({ enabled: false, retiredReason: 'http_404' });
    const gone = await search(app, admin.token, 'lockers floor nine', { collectionIds: [collection] });
    expect(gone.some((h) => h.documentId === lockers.id || h.text.includes('Lockers'))).toBe(false);
    const badges = await search(app, admin.token, 'what colour are badges', { collectionIds: [collection] });
    expect(badges.map((h) => h.text).join(' ')).toContain('green');
    expect(badges.map((h) => h.text).join(' ')).not.toContain('blue');
    expect((await search(app, admin.token, 'where do bikes park', { collectionIds: [collection] }))[0]?.title).toBe(
      'Bikes',
    );
  });
});
