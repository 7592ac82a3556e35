import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { connectSocket } from '../support/ws-client.ts';
import { makeDocx, makePdf, makeXlsx } from './fixtures.ts';
import { addText, chunksOf, filesUnder, newCollection, search, settled, upload } from './helpers.ts';

describe.each(backends)('knowledge ingestion on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    app = await startTestApp(backend, { env: { MAX_UPLOAD_MB: '1' } });
    admin = await newUser(app, { role: 'admin' });
    collectionId = await newCollection(app, admin.token);
  });
  afterAll(() => app?.close());

  it('ingests a PDF page by page, Chinese included, and finds passages by page', async () => {
    const pdf = makePdf([
      ['Employee handbook', 'Vacation allowance is 25 days per calendar year.'],
      ['第二页：报销政策。', '差旅费用须在三十天内提交报销申请。'],
    ]);
    const res = await upload(app, admin.token, collectionId, 'handbook.pdf', pdf, 'text/plain');
    expect(res.status).toBe(202);
    expect(res.body.document).toMatchObject({
      status: 'queued',
      source: 'upload',
      mime: 'application/pdf',
      title: 'handbook',
    });
    const doc = await settled(app, admin.token, res.body.document.id);
    expect(doc).toMatchObject({ status: 'ready', progress: 1, pageCount: 2, error: null });
    const chunks = await chunksOf(app, admin.token, doc.id);
    expect(chunks.map((c) => c.page)).toEqual([1, 2]);
    expect(chunks[0]!.text).toContain('Vacation allowance is 25 days per calendar year.');
    expect(chunks[1]!.text).toContain('差旅费用须在三十天内提交报销申请。');
    expect(doc.chunkCount).toBe(2);

    const hits = await search(app, admin.token, '差旅费用多久内报销？');
    expect(hits[0]).toMatchObject({ documentId: doc.id, page: 2, title: 'handbook' });
    const english = await search(app, admin.token, 'how many vacation days');
    expect(english[0]).toMatchObject({ documentId: doc.id, page: 1 });
  }, 90_000); // the first parse starts the parser thread (cold imports)

  it('ingests DOCX with its headings, XLSX and CSV as Markdown tables, HTML without its chrome, Markdown by section', async () => {
    const docx = makeDocx([
      ['Heading1', 'Security policy'],
      ['', 'Visitor badges must be worn visibly at all times.'],
    ]);
    const xlsx = await makeXlsx('Price list', [
      ['Item', 'Price'],
      ['Laptop', 1200],
      ['显示器', 300],
    ]);
    const csv = Buffer.from('Office,City,Phone\nHQ,"Berlin, Germany",+49 30 1234\nBranch,上海,+86 21 5555\n');
    const html = Buffer.from(
      '<!doctype html><html><head><title>Cafeteria</title><style>.x{color:red}</style></head><body><nav>Home | About</nav><h1>Cafeteria hours</h1><p>The cafeteria opens at 7:30 &amp; closes at 15:00.</p><script>alert(1)</script></body></html>',
    );
    const md = Buffer.from(
      '# IT guide\n\n## VPN\n\nConnect to the VPN with the Enclave client.\n\n## Printers\n\nPrinters are on every floor.\n',
    );
    const uploads = await Promise.all([
      upload(app, admin.token, collectionId, 'policy.docx', docx),
      upload(app, admin.token, collectionId, 'prices.xlsx', xlsx),
      upload(app, admin.token, collectionId, 'offices.csv', csv),
      upload(app, admin.token, collectionId, 'cafeteria.html', html),
      upload(app, admin.token, collectionId, 'it-guide.md', md),
    ]);
    expect(uploads.map((u) => u.status)).toEqual([202, 202, 202, 202, 202]);
    expect(uploads.map((u) => u.body.document.mime)).toEqual([
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'text/csv',
      'text/html',
      'text/markdown',
    ]);
    const docs = await Promise.all(uploads.map((u) => settled(app, admin.token, u.body.document.id)));
    expect(docs.map((d) => d.status)).toEqual(['ready', 'ready', 'ready', 'ready', 'ready']);
    const [docxChunks, xlsxChunks, csvChunks, htmlChunks, mdChunks] = (await Promise.all(
      docs.map((d) => chunksOf(app, admin.token, d.id)),
    )) as [
      Awaited<ReturnType<typeof chunksOf>>,
      Awaited<ReturnType<typeof chunksOf>>,
      Awaited<ReturnType<typeof chunksOf>>,
      Awaited<ReturnType<typeof chunksOf>>,
      Awaited<ReturnType<typeof chunksOf>>,
    ];

    expect(docxChunks[0]).toMatchObject({ headings: ['Security policy'] });
    expect(docxChunks[0]!.text).toContain('Visitor badges must be worn visibly at all times.');
    expect(xlsxChunks[0]!.text).toBe('| Item | Price |\n| --- | --- |\n| Laptop | 1200 |\n| 显示器 | 300 |');
    expect(xlsxChunks[0]!.headings).toEqual(['Price list']);
    expect(csvChunks[0]!.text).toBe(
      '| Office | City | Phone |\n| --- | --- | --- |\n| HQ | Berlin, Germany | +49 30 1234 |\n| Branch | 上海 | +86 21 5555 |',
    );
    const htmlText = htmlChunks.map((c) => c.text).join('\n');
    expect(htmlText).toContain('The cafeteria opens at 7:30 & closes at 15:00.');
    expect(htmlText).not.toMatch(/alert|color:red|Home \| About/);
    expect(mdChunks.map((c) => c.headings)).toEqual([
      ['IT guide', 'VPN'],
      ['IT guide', 'Printers'],
    ]);
    expect(mdChunks.find((c) => c.text.includes('VPN with the Enclave client'))!.headings).toEqual(['IT guide', 'VPN']);

    expect((await search(app, admin.token, 'visitor badge'))[0]!.documentId).toBe(docs[0]!.id);
    expect((await search(app, admin.token, '显示器多少钱'))[0]!.documentId).toBe(docs[1]!.id);
    expect((await search(app, admin.token, 'cafeteria opening hours'))[0]!.documentId).toBe(docs[3]!.id);
  });

  it('keeps the original for download', async () => {
    const bytes = makeDocx([['', 'Download me.']]);
    const res = await upload(app, admin.token, collectionId, '下载.docx', bytes);
    await settled(app, admin.token, res.body.document.id);
    const file = await fetch(`${app.url}/api/documents/${res.body.document.id}/file`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent('下载.docx')}`,
    );
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('fails a corrupt or empty file with a readable error, and keeps serving', async () => {
    const corrupt = await upload(
      app,
      admin.token,
      collectionId,
      'broken.pdf',
      Buffer.from('%PDF-1.7\nthis is not really a pdf'),
    );
    const empty = await upload(app, admin.token, collectionId, 'empty.txt', Buffer.alloc(0));
    const brokenDocx = await upload(
      app,
      admin.token,
      collectionId,
      'broken.docx',
      Buffer.concat([Buffer.from('PK\u0003\u0004word/'), Buffer.alloc(64)]),
    );
    const [a, b, c] = await Promise.all(
      [corrupt, empty, brokenDocx].map((r) => settled(app, admin.token, r.body.document.id)),
    );
    expect(a).toMatchObject({ status: 'failed' });
    expect(a.error).toMatch(/PDF could not be read/);
    expect(b).toMatchObject({ status: 'failed', error: 'The file is empty' });
    expect(c.status).toBe('failed');
    expect(c.error).toMatch(/Word document could not be read/);
    // The server is unaffected: it answers and still ingests.
    expect((await request(app.url, 'GET', '/healthz')).status).toBe(200);
    const ok = await addText(app, admin.token, collectionId, 'After failures', 'Still working after corrupt files.');
    expect(ok.status).toBe('ready');
  });

  it('refuses a binary type it cannot index (sniffed, whatever the name says) with 415', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)]);
    const res = await upload(app, admin.token, collectionId, 'notes.txt', png, 'text/plain');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers an oversized upload with 413 and leaves nothing behind', async () => {
    const before = await request(app.url, 'GET', `/api/collections/${collectionId}/documents?limit=200`, {
      token: admin.token,
    });
    const filesBefore = await filesUnder(path.join(app.services.config.dataDir, 'files'));
    const big = Buffer.alloc(1024 * 1024 + 10, 'a');
    const res = await upload(app, admin.token, collectionId, 'big.txt', big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    // Past the Content-Length pre-check too: a chunked body is cut while streaming.
    const streamed = await fetch(`${app.url}/api/collections/${collectionId}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'multipart/form-data; boundary=XyZ' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(
            new TextEncoder().encode(
              '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n',
            ),
          );
          for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(64 * 1024).fill(98));
          controller.enqueue(new TextEncoder().encode('\r\n--XyZ--\r\n'));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const after = await request(app.url, 'GET', `/api/collections/${collectionId}/documents?limit=200`, {
      token: admin.token,
    });
    expect(after.body.items.length).toBe(before.body.items.length);
    expect(await filesUnder(path.join(app.services.config.dataDir, 'files'))).toEqual(filesBefore);
  });

  it('treats identical content re-added to a collection as a no-op returning the existing document', async () => {
    const bytes = Buffer.from('# Parking\n\nParking permits are issued by facilities.\n');
    const first = await upload(app, admin.token, collectionId, 'parking.md', bytes);
    expect(first.status).toBe(202);
    await settled(app, admin.token, first.body.document.id);
    const again = await upload(app, admin.token, collectionId, 'parking-copy.md', bytes);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ duplicate: true, document: { id: first.body.document.id, status: 'ready' } });
    const text1 = await request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
      token: admin.token,
      body: { title: 'A', text: 'Same words.' },
    });
    const text2 = await request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
      token: admin.token,
      body: { title: 'B', text: 'Same words.' },
    });
    expect(text2.body.document.id).toBe(text1.body.document.id);
    const chunks = await chunksOf(app, admin.token, first.body.document.id);
    expect(chunks.length).toBe(1);
    // Another collection is another place: the same content is added there.
    const other = await newCollection(app, admin.token, { name: 'Other' });
    expect((await upload(app, admin.token, other, 'parking.md', bytes)).status).toBe(202);
  });

  it('removes a deleted document from search at once; disable hides it; re-index replaces its chunks', async () => {
    const doc = await addText(
      app,
      admin.token,
      collectionId,
      'Quokka facts',
      'The quokka is a small marsupial living on Rottnest Island.',
    );
    expect((await search(app, admin.token, 'quokka marsupial'))[0]!.documentId).toBe(doc.id);

    const disabled = await request(app.url, 'PATCH', `/api/documents/${doc.id}`, {
      token: admin.token,
      body: { enabled: false },
    });
    expect(disabled.body.document.enabled).toBe(false);
    expect((await search(app, admin.token, 'quokka marsupial')).some((h) => h.documentId === doc.id)).toBe(false);
    await request(app.url, 'PATCH', `/api/documents/${doc.id}`, { token: admin.token, body: { enabled: true } });
    expect((await search(app, admin.token, 'quokka marsupial'))[0]!.documentId).toBe(doc.id);

    const beforeIds = (await chunksOf(app, admin.token, doc.id)).map((c) => c.ord);
    const reindex = await request(app.url, 'POST', `/api/documents/${doc.id}/reindex`, { token: admin.token });
    expect(reindex.status).toBe(202);
    expect(reindex.body.document).toMatchObject({ version: 2, status: 'queued' });
    const again = await settled(app, admin.token, doc.id);
    expect(again).toMatchObject({ status: 'ready', version: 2, chunkCount: beforeIds.length });
    expect((await chunksOf(app, admin.token, doc.id)).map((c) => c.ord)).toEqual(beforeIds);

    expect((await request(app.url, 'DELETE', `/api/documents/${doc.id}`, { token: admin.token })).status).toBe(204);
    expect((await search(app, admin.token, 'quokka marsupial')).some((h) => h.documentId === doc.id)).toBe(false);
    expect((await request(app.url, 'GET', `/api/documents/${doc.id}`, { token: admin.token })).status).toBe(404);
    const { rows } = await app.services.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM chunks WHERE document_id = $1',
      [doc.id],
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('finds a new document by a word that no document held when it was last searched for', async () => {
    // Search caches how many chunks hold each word; a word that none held must not stay "unknown".
    expect(await search(app, admin.token, 'wombatology', { mode: 'text' })).toEqual([]);
    const doc = await addText(
      app,
      admin.token,
      collectionId,
      'Wombatology course',
      'Wombatology is taught on Thursdays in room 4.',
    );
    expect((await search(app, admin.token, 'wombatology', { mode: 'text' })).map((h) => h.documentId)).toEqual([
      doc.id,
    ]);
    expect((await search(app, admin.token, 'wombatology'))[0]!.documentId).toBe(doc.id);
  });

  it('retrieves a FAQ pair as one unit and prefers it when it matches', async () => {
    const faq = await request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
      token: admin.token,
      body: {
        question: 'How do I reset my password?',
        answer: 'Open the self-service portal and choose "Forgot password".',
      },
    });
    expect(faq.status).toBe(202);
    const doc = await settled(app, admin.token, faq.body.document.id);
    expect(doc).toMatchObject({ source: 'faq', title: 'How do I reset my password?', chunkCount: 1 });
    await addText(
      app,
      admin.token,
      collectionId,
      'Password rules',
      'A password must have 12 characters. Reset your password every year.',
    );
    const hits = await search(app, admin.token, 'how to reset password');
    expect(hits[0]).toMatchObject({ documentId: doc.id, kind: 'faq' });
    expect(hits[0]!.text).toBe(
      'How do I reset my password?\nOpen the self-service portal and choose "Forgot password".',
    );
  });

  it('streams status and progress to admins over the WebSocket', async () => {
    const socket = await connectSocket(app.url, admin.token);
    try {
      const res = await request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
        token: admin.token,
        body: { title: 'Live', text: 'Progress events reach the admin console.' },
      });
      const id = res.body.document.id;
      const ready = await socket.waitFor(
        (f) => f.type === 'document.updated' && f.document.id === id && f.document.status === 'ready',
        10_000,
      );
      expect(ready.document.progress).toBe(1);
      const states = socket.frames
        .filter((f) => f.type === 'document.updated' && f.document.id === id)
        .map((f) => f.document.status);
      expect(states).toContain('processing');
      expect(states.indexOf('processing')).toBeLessThan(states.lastIndexOf('ready'));
    } finally {
      await socket.close();
    }
  });
});
