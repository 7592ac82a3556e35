import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { requires, tool, type Requirement } from '../support/requires-tool.ts';
import { makeScannedPdf, scannedPage } from './fixtures.ts';
import { chunksOf, newCollection, search, settled, upload } from './helpers.ts';

const languages = (spawnSync('tesseract', ['--list-langs'], { encoding: 'utf8' }).stdout ?? '').split('\n');
const OCR: Requirement[] = [
  tool('tesseract', ['--version'], 'tesseract-ocr (apt-get install tesseract-ocr)'),
  ...['chi_sim', 'chi_tra', 'eng'].map((lang) => ({
    what: `tesseract's ${lang} data (apt-get install tesseract-ocr-${lang.replace('_', '-')})`,
    present: languages.includes(lang),
  })),
];

/** A scanned handbook: no text layer, a page in Chinese, a page in English, as a copier makes it. */
async function scannedHandbook(): Promise<Buffer> {
  return makeScannedPdf([
    await scannedPage(['停车场在B区地下二层。', '访客请在一楼前台登记。']),
    await scannedPage(['The parking garage is on level B2.', 'Visitors sign in at the front desk.']),
  ]);
}

describe.each(backends)('scanned PDFs on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
    collectionId = await newCollection(app, admin.token);
  });
  afterAll(() => app?.close());

  it('reads pages without a text layer by OCR, Chinese and English, and finds them by page', async (ctx) => {
    requires(ctx, OCR);
    const res = await upload(app, admin.token, collectionId, 'scan.pdf', await scannedHandbook());
    expect(res.status).toBe(202);
    const doc = await settled(app, admin.token, res.body.document.id, 120_000);
    expect(doc).toMatchObject({ status: 'ready', pageCount: 2, error: null });
    const chunks = await chunksOf(app, admin.token, doc.id);
    expect(chunks.map((c) => c.page)).toEqual([1, 2]);
    // Simplified Chinese stays simplified, without the spaces tesseract puts between characters.
    expect(chunks[0]!.text).toContain('停车场在B区地下二层。');
    expect(chunks[0]!.text).toContain('访客请在一楼前台登记。');
    expect(chunks[1]!.text).toContain('The parking garage is on level B2.');
    expect(chunks[1]!.text).toContain('Visitors sign in at the front desk.');

    expect((await search(app, admin.token, '停车场在哪里？'))[0]).toMatchObject({ documentId: doc.id, page: 1 });
    expect((await search(app, admin.token, 'Where do visitors sign in?'))[0]).toMatchObject({
      documentId: doc.id,
      page: 2,
    });
  }, 180_000);
});

describe('scanned PDFs without OCR', () => {
  let app: TestApp;
  afterAll(() => app?.close());

  it('fails the document with a message saying OCR is not installed and how to install it', async () => {
    app = await startTestApp(backends[0]!, { env: { TESSERACT_PATH: '/nonexistent/bin/tesseract' } });
    const admin = await newUser(app, { role: 'admin' });
    const collectionId = await newCollection(app, admin.token);
    const res = await upload(app, admin.token, collectionId, 'scan.pdf', await scannedHandbook());
    const doc = await settled(app, admin.token, res.body.document.id);
    expect(doc.status).toBe('failed');
    expect(doc.error).toMatch(/scanned pages .* OCR is not installed/);
    expect(doc.error).toContain(
      'apt-get install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng',
    );
  }, 60_000);
});
