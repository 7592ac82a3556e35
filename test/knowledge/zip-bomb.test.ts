import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnparseableError } from '../../server/src/core/knowledge/parsing/parsed-document.ts';
import { createParserPool } from '../../server/src/core/knowledge/parsing/parser-pool.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { makeDocx, makeDocxBomb, makeDocxWithParts } from './fixtures.ts';
import { addText, newCollection, settled, upload } from './helpers.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const GiB = 2 ** 30;

/** The highest resident set size of this process (parser threads included) while `work` runs. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ peak: number; outcome: PromiseSettledResult<T> }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const [outcome] = await Promise.allSettled([work()]);
  clearInterval(timer);
  return { peak: Math.max(peak, process.memoryUsage.rss()), outcome: outcome! };
}

describe('archive bombs', () => {
  const pool = createParserPool({ size: 1 });
  afterAll(() => pool.close());

  it('refuses a 4 MB Word document holding 1 GiB of XML without inflating it, under 512 MB', async () => {
    const bomb = makeDocxBomb(GiB);
    expect(bomb.length).toBeLessThan(8 * 2 ** 20);
    const { peak, outcome } = await peakRss(() => pool.parse(bomb, DOCX));
    expect(outcome.status).toBe('rejected');
    const error = (outcome as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(UnparseableError);
    expect(error.message).toMatch(/would expand to more than 256 MB when unpacked/);
    expect(peak / 2 ** 20).toBeLessThan(512);
    // The thread is still there for the next file.
    const ok = await pool.parse(makeDocx([['', 'Still parsing after the bomb.']]), DOCX);
    expect(ok.sections[0]!.text).toBe('Still parsing after the bomb.');
  }, 60_000);

  it('refuses a Word document whose directory understates what it unpacks to, under 512 MB', async () => {
    const liar = makeDocxBomb(GiB, { declaredBytes: 64 * 1024 });
    const { peak, outcome } = await peakRss(() => pool.parse(liar, DOCX));
    expect(outcome.status).toBe('rejected');
    const error = (outcome as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(UnparseableError);
    expect(error.message).toMatch(/unpacks to more than its zip directory says/);
    expect(peak / 2 ** 20).toBeLessThan(512);
  }, 60_000);

  it('refuses a Word document of thousands of parts', async () => {
    await expect(pool.parse(makeDocxWithParts(6_000), DOCX)).rejects.toThrow(/holds more than 5,000 parts/);
  }, 30_000);
});

describe.each(backends)('an uploaded zip bomb on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
    collectionId = await newCollection(app, admin.token);
  });
  afterAll(() => app?.close());

  it('fails the document at once with a clear error (not retried), and the server keeps ingesting', async () => {
    const res = await upload(app, admin.token, collectionId, 'report.docx', makeDocxBomb(GiB));
    expect(res.status).toBe(202);
    const doc = await settled(app, admin.token, res.body.document.id);
    expect(doc).toMatchObject({ status: 'failed' });
    expect(doc.error).toMatch(/^The Word document would expand to more than 256 MB when unpacked; it was not opened/);
    expect(doc.error).not.toMatch(/retry/);
    const ok = await addText(app, admin.token, collectionId, 'After the bomb', 'Still indexing after a zip bomb.');
    expect(ok.status).toBe('ready');
  }, 90_000);
});
