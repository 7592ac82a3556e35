import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { makeDocxTable, makePptx, makeXlsx } from './fixtures.ts';
import { chunksOf, newCollection, search, settled, upload } from './helpers.ts';

const PPTX = 'application/vnd.openxmlformats-officedocument.presentationml.presentation';

/** The first bytes of a Word 97–2003 file: the OLE2 signature, then its directory naming WordDocument. */
function legacyDoc(): Buffer {
  const head = Buffer.alloc(1536);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(head);
  Buffer.from('Root Entry', 'utf16le').copy(head, 1024);
  Buffer.from('WordDocument', 'utf16le').copy(head, 1152);
  return head;
}

describe.each(backends)('more formats and tables on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
    collectionId = await newCollection(app, admin.token);
  });
  afterAll(() => app?.close());

  it('indexes a PowerPoint deck slide by slide, in the deck order, slide numbers as pages', async () => {
    const deck = makePptx([
      ['Quarterly review', 'Revenue grew in every region.'],
      ['Office moves', 'The Berlin team moves to the Alexanderplatz office in May.'],
      [
        'Support hours',
        [
          ['Team', 'Hours'],
          ['Hotline', '8:00–20:00'],
          ['Chat', '24/7'],
        ],
      ],
    ]);
    const res = await upload(app, admin.token, collectionId, 'review.pptx', deck);
    expect(res.status).toBe(202);
    expect(res.body.document.mime).toBe(PPTX);
    const doc = await settled(app, admin.token, res.body.document.id);
    expect(doc).toMatchObject({ status: 'ready', pageCount: 3 });
    const chunks = await chunksOf(app, admin.token, doc.id);
    expect(chunks.map((c) => [c.page, c.text])).toEqual([
      [1, 'Quarterly review\nRevenue grew in every region.'],
      [2, 'Office moves\nThe Berlin team moves to the Alexanderplatz office in May.'],
      [3, 'Support hours\n\n| Team | Hours |\n| --- | --- |\n| Hotline | 8:00–20:00 |\n| Chat | 24/7 |'],
    ]);
    expect((await search(app, admin.token, 'when does the Berlin team move'))[0]).toMatchObject({
      documentId: doc.id,
      page: 2,
    });
  });

  it('keeps tables of Word documents and web pages as Markdown tables', async () => {
    const docx = makeDocxTable('Meeting rooms and their seats:', [
      ['Room', 'Seats', 'Floor'],
      ['Everest', '12', '3'],
      ['K2', '6', '4'],
    ]);
    const html = Buffer.from(
      '<!doctype html><html><head><title>Shuttle</title></head><body><h1>Shuttle bus</h1><table><thead><tr><th>Stop</th><th>Departs</th></tr></thead><tbody><tr><td>Main gate</td><td>07:45</td></tr><tr><td>Station <b>North</b></td><td>08:05</td></tr></tbody></table></body></html>',
    );
    const [a, b] = await Promise.all([
      upload(app, admin.token, collectionId, 'rooms.docx', docx),
      upload(app, admin.token, collectionId, 'shuttle.html', html),
    ]);
    const [rooms, shuttle] = await Promise.all([a, b].map((r) => settled(app, admin.token, r.body.document.id)));
    expect((await chunksOf(app, admin.token, rooms.id))[0]!.text).toBe(
      'Meeting rooms and their seats:\n\n| Room | Seats | Floor |\n| --- | --- | --- |\n| Everest | 12 | 3 |\n| K2 | 6 | 4 |',
    );
    expect((await chunksOf(app, admin.token, shuttle.id))[0]!.text).toBe(
      'Shuttle bus\n\n| Stop | Departs |\n| --- | --- |\n| Main gate | 07:45 |\n| Station North | 08:05 |',
    );
  });

  it('splits a long table between whole rows, repeating its header in every chunk', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => [
      `Employee ${i + 1}`,
      `+49 30 ${String(5000 + i)}`,
      `Floor ${(i % 5) + 1}`,
    ]);
    const xlsx = await makeXlsx('Directory', [['Name', 'Phone', 'Floor'], ...rows]);
    const res = await upload(app, admin.token, collectionId, 'directory.xlsx', xlsx);
    const doc = await settled(app, admin.token, res.body.document.id);
    const chunks = await chunksOf(app, admin.token, doc.id);
    expect(chunks.length).toBeGreaterThan(2);
    const seen: string[] = [];
    for (const chunk of chunks) {
      const lines = chunk.text.split('\n');
      expect(lines.slice(0, 2)).toEqual(['| Name | Phone | Floor |', '| --- | --- | --- |']);
      expect(chunk.headings).toEqual(['Directory']);
      for (const line of lines.slice(2)) {
        expect(line).toMatch(/^\| Employee \d+ \| \+49 30 \d+ \| Floor \d \|$/);
        seen.push(line);
      }
    }
    expect(seen).toEqual(rows.map((r) => `| ${r.join(' | ')} |`));
    const hit = (await search(app, admin.token, 'phone number of Employee 250'))[0]!;
    expect(hit.documentId).toBe(doc.id);
    expect(hit.text).toContain('| Employee 250 | +49 30 5249 | Floor 5 |');
    expect(hit.text.startsWith('| Name | Phone | Floor |')).toBe(true);
  });

  it('refuses a legacy Word file (.doc) with 415, saying to save it as .docx', async () => {
    const res = await upload(app, admin.token, collectionId, 'old-policy.doc', legacyDoc());
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(res.body.error.message).toMatch(/Legacy Word files \(\.doc.*save it as \.docx/);
  });
});
