import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from '../../server/src/core/knowledge/parsing/parse.ts';
import { UnparseableError } from '../../server/src/core/knowledge/parsing/parsed-document.ts';
import { createParserPool } from '../../server/src/core/knowledge/parsing/parser-pool.ts';
import { sniffMime } from '../../server/src/core/knowledge/parsing/sniff.ts';
import { splitSections } from '../../server/src/core/knowledge/text/splitter.ts';
import { lexemes } from '../../server/src/core/knowledge/text/tokenize.ts';
import { makePdf } from './fixtures.ts';

describe('parsing off the event loop', () => {
  const pool = createParserPool({ size: 1 });
  afterAll(() => pool.close());

  it('parses a large PDF in a worker thread while the event loop stays responsive', async () => {
    const pages = Array.from({ length: 150 }, (_, p) =>
      Array.from(
        { length: 30 },
        (_, l) => `Page ${p + 1} line ${l + 1}: policies, procedures and 第${p + 1}页的规定。`,
      ),
    );
    const pdf = makePdf(pages);
    // Inline, the same parse blocks the loop for the whole time (the reason for the pool).
    const inlineStart = performance.now();
    await parseDocument(pdf, 'application/pdf');
    const inlineMs = performance.now() - inlineStart;

    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const parsed = await pool.parse(pdf, 'application/pdf');
    delay.disable();
    expect(parsed.pageCount).toBe(150);
    expect(parsed.sections[149]).toMatchObject({ page: 150 });
    expect(parsed.sections[149]!.text).toContain('Page 150 line 30: policies, procedures and 第150页的规定。');
    const maxStallMs = delay.max / 1e6;
    expect(maxStallMs).toBeLessThan(Math.max(150, inlineMs / 4));
  }, 60_000);

  it('reports a corrupt file as unparseable (not retried), and survives it', async () => {
    await expect(pool.parse(Buffer.from('%PDF-1.4\ngarbage'), 'application/pdf')).rejects.toBeInstanceOf(
      UnparseableError,
    );
    expect((await pool.parse(Buffer.from('still alive'), 'text/plain')).sections[0]!.text).toBe('still alive');
  });
});

describe('type sniffing and text handling', () => {
  it('sniffs content, not names', () => {
    expect(sniffMime(Buffer.from('%PDF-1.7 …'), 'report.txt')).toBe('application/pdf');
    expect(sniffMime(Buffer.from('<!DOCTYPE html><html>'), 'page.txt')).toBe('text/html');
    expect(sniffMime(Buffer.from('a,b\n1,2'), 'data.csv')).toBe('text/csv');
    expect(sniffMime(Buffer.from('# Title'), 'notes.md')).toBe('text/markdown');
    expect(sniffMime(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]), 'image.txt')).toBeUndefined();
    expect(sniffMime(Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x00]), 'x.txt')).toBeUndefined();
  });

  it('segments Chinese for the index (words and bigrams), stems English, drops stop words', () => {
    expect(lexemes('The employees were running', 'index')).toEqual(['employe', 'run']);
    const zh = lexemes('差旅费用须在三十天内报销', 'query');
    expect(zh).toEqual(expect.arrayContaining(['差旅', '费用', '报销', '三十']));
    expect(zh).not.toContain('在');
  });

  it('splits at Chinese sentence ends without moving the 。 to the next chunk, in token-sized chunks', async () => {
    const text = '第一条规定适用于所有员工。'.repeat(40) + '最后一句话在这里！';
    const pieces = await splitSections([{ text, page: 3, headings: ['制度'] }], { chunkTokens: 60, overlapTokens: 6 });
    expect(pieces.length).toBeGreaterThan(5);
    for (const p of pieces) {
      expect(p.tokenCount).toBeLessThanOrEqual(60);
      expect(p.text.startsWith('。')).toBe(false);
      expect(p.text).toMatch(/[。！]$/);
      expect(p.metadata).toEqual({ page: 3, headings: ['制度'] });
    }
  });
});
