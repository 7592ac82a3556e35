import { describe, expect, it, vi } from 'vitest';
import {
  ANSWER_MAX,
  batchPairs,
  decodeFaqFile,
  detectDelimiter,
  importFaqPairs,
  parseDelimited,
  parseFaqText,
  QUESTION_MAX,
  type FaqPair,
} from '../../web/src/utils/faq-import';

const qa = (r: { pairs: FaqPair[] }) => r.pairs.map((p) => [p.question, p.answer]);
const lines = (r: { pairs: FaqPair[] }) => r.pairs.map((p) => p.line);

describe('parseFaqText: CSV', () => {
  it('reads quoted fields holding commas, doubled quotes and line breaks', () => {
    const csv = [
      'How do I reset my password?,"Open Settings, then Security."',
      '"What is ""SSO""?","Single sign-on: one ""login"" for all apps."',
      '"Where is the office?","Floor 3,',
      'Building B.',
      '',
      'Ask reception."',
      'Who approves leave?,Your manager',
    ].join('\n');
    const r = parseFaqText(csv);
    expect(r.delimiter).toBe(',');
    expect(r.errors).toEqual([]);
    expect(qa(r)).toEqual([
      ['How do I reset my password?', 'Open Settings, then Security.'],
      ['What is "SSO"?', 'Single sign-on: one "login" for all apps.'],
      ['Where is the office?', 'Floor 3,\nBuilding B.\n\nAsk reception.'],
      ['Who approves leave?', 'Your manager'],
    ]);
    // a row's line is where it starts; the multi-line field moves the next row to line 7
    expect(lines(r)).toEqual([1, 2, 3, 7]);
  });

  it('handles CRLF (also inside quoted fields), a UTF-8 BOM and a missing final line break', () => {
    const csv = '\uFEFFquestion,answer\r\nq1,"a1 line one\r\nline two"\r\nq2,a2\r\n\r\nq3,a3';
    const r = parseFaqText(csv);
    expect(r.headerSkipped).toBe(true);
    expect(qa(r)).toEqual([
      ['q1', 'a1 line one\nline two'],
      ['q2', 'a2'],
      ['q3', 'a3'],
    ]);
    expect(lines(r)).toEqual([2, 4, 6]);
    // the BOM is not part of the first cell (else the header would have been taken for a pair)
    expect(parseFaqText('\uFEFFq,a').pairs[0]!.question).toBe('q');
  });

  it('skips an English or Chinese header row, in any case and with spaces, but only as the first row', () => {
    expect(parseFaqText('Question , ANSWER\nq,a').headerSkipped).toBe(true);
    expect(qa(parseFaqText('Question,Answer\nq,a'))).toEqual([['q', 'a']]);
    const zh = parseFaqText('问题,答案\n年假有几天？,十五天\n');
    expect(zh.headerSkipped).toBe(true);
    expect(qa(zh)).toEqual([['年假有几天？', '十五天']]);
    expect(lines(zh)).toEqual([2]);
    // blank lines before the header do not stop it being the header
    expect(parseFaqText('\n\nquestion,answer\nq,a').headerSkipped).toBe(true);
    // not a header: only one of the two names, or a header-like row later on
    expect(qa(parseFaqText('question,what to do\nq,a'))).toEqual([
      ['question', 'what to do'],
      ['q', 'a'],
    ]);
    expect(qa(parseFaqText('q,a\nquestion,answer'))).toEqual([
      ['q', 'a'],
      ['question', 'answer'],
    ]);
  });

  it('skips blank and whitespace-only lines and trims the cells', () => {
    const r = parseFaqText('\n  q1  ,  a1  \n   \n,\n\t\nq2,a2\n\n');
    expect(r.errors).toEqual([]);
    expect(qa(r)).toEqual([
      ['q1', 'a1'],
      ['q2', 'a2'],
    ]);
    expect(lines(r)).toEqual([2, 6]);
  });

  it('keeps a quote inside an unquoted field as a character, and accepts empty trailing cells', () => {
    const r = parseFaqText('5" screen?,Yes 5"\nq,a,,\n');
    expect(qa(r)).toEqual([
      ['5" screen?', 'Yes 5"'],
      ['q', 'a'],
    ]);
  });
});

describe('parseFaqText: TSV', () => {
  it('is tab-separated when the first line has tabs and no commas', () => {
    const r = parseFaqText('question\tanswer\nHow are you?\tFine, thanks, and you?\n"Two\tcells?"\tno, one\n');
    expect(r.delimiter).toBe('\t');
    expect(r.headerSkipped).toBe(true);
    expect(qa(r)).toEqual([
      ['How are you?', 'Fine, thanks, and you?'],
      ['Two\tcells?', 'no, one'],
    ]);
  });

  it('follows the file extension before the content', () => {
    expect(detectDelimiter('a,b\tc', 'faq.TSV')).toBe('\t');
    expect(detectDelimiter('a\tb', 'faq.csv')).toBe(',');
    expect(detectDelimiter('a\tb', 'faq.txt')).toBe('\t');
    expect(detectDelimiter('a, b\tc', 'faq.txt')).toBe(',');
    expect(detectDelimiter('\uFEFFa\tb\nc,d')).toBe('\t');
    // a TSV file whose header line happens to hold a comma is still read as TSV
    const r = parseFaqText('Question, please\tAnswer\nq\ta, b\n', { fileName: 'export.tsv' });
    expect(qa(r)).toEqual([
      ['Question, please', 'Answer'],
      ['q', 'a, b'],
    ]);
  });
});

describe('parseFaqText: rows that cannot be sent', () => {
  it('reports each with its line number, and sends the rest', () => {
    const long = (n: number) => 'x'.repeat(n);
    const csv = [
      'question,answer', // 1
      'ok 1,fine', // 2
      ',no question', // 3
      'no answer,', // 4
      'only a question', // 5
      '"multi', // 6
      'line",', // 7  (the row started on line 6)
      `${long(QUESTION_MAX)},at the limit`, // 8
      `${long(QUESTION_MAX + 1)},too long`, // 9
      `q,${long(ANSWER_MAX + 1)}`, // 10
      'q,a, then an unquoted comma', // 11
      'nul,a\u0000b', // 12
      'ok 2,fine', // 13
      '"never closed,answer', // 14
      'ok 3,swallowed by the open quote', // 15
    ].join('\n');
    const r = parseFaqText(csv);
    expect(r.errors).toEqual([
      { line: 3, problem: 'missingQuestion' },
      { line: 4, problem: 'missingAnswer' },
      { line: 5, problem: 'missingAnswer' },
      { line: 6, problem: 'missingAnswer' },
      { line: 9, problem: 'questionTooLong' },
      { line: 10, problem: 'answerTooLong' },
      { line: 11, problem: 'extraColumns' },
      { line: 12, problem: 'invalidText' },
      { line: 14, problem: 'unclosedQuote' },
    ]);
    expect(lines(r)).toEqual([2, 8, 13]);
    expect(r.pairs[1]!.question).toHaveLength(QUESTION_MAX);
  });

  it('measures the limits after trimming, as the server does', () => {
    const r = parseFaqText(`q,"  ${'a'.repeat(ANSWER_MAX)}  "`);
    expect(r.errors).toEqual([]);
    expect(r.pairs[0]!.answer).toHaveLength(ANSWER_MAX);
  });

  it('imports a repeated row once and says where it repeats', () => {
    const r = parseFaqText('q1,a1\nq2,a2\n q1 ,a1\nq1,another answer\n');
    expect(qa(r)).toEqual([
      ['q1', 'a1'],
      ['q2', 'a2'],
      ['q1', 'another answer'],
    ]);
    expect(r.repeats).toEqual([{ line: 3, firstLine: 1 }]);
  });

  it('returns nothing for empty text', () => {
    expect(parseFaqText('')).toMatchObject({ pairs: [], errors: [], repeats: [], headerSkipped: false });
    expect(parseFaqText('\uFEFF\r\n\r\n').pairs).toEqual([]);
  });
});

describe('parseDelimited', () => {
  it('treats a lone CR as a line break and keeps empty cells', () => {
    expect(parseDelimited('a,b\rc,,\r', ',')).toEqual([
      { cells: ['a', 'b'], line: 1, unclosed: false },
      { cells: ['c', '', ''], line: 2, unclosed: false },
    ]);
  });
});

describe('decodeFaqFile', () => {
  it('reads UTF-8 (with its BOM left for the parser), UTF-16 with a BOM, and GB18030 from a Chinese Excel', () => {
    const utf8 = new TextEncoder().encode('\uFEFF问题,答案\n年假,十五天');
    expect(decodeFaqFile(utf8).encoding).toBe('utf-8');
    expect(qa(parseFaqText(decodeFaqFile(utf8).text))).toEqual([['年假', '十五天']]);

    const text = 'question\tanswer\n年假\t十五天\n';
    const le = new Uint8Array(2 + text.length * 2);
    le.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) new DataView(le.buffer).setUint16(2 + i * 2, text.charCodeAt(i), true);
    const decoded = decodeFaqFile(le);
    expect(decoded.encoding).toBe('utf-16le');
    expect(qa(parseFaqText(decoded.text, { fileName: 'faq.txt' }))).toEqual([['年假', '十五天']]);

    // 问题,答案 / 年假,十五天 in GB18030 (GBK) bytes: not valid UTF-8
    const gbk = Uint8Array.from([
      0xce, 0xca, 0xcc, 0xe2, 0x2c, 0xb4, 0xf0, 0xb0, 0xb8, 0x0a, 0xc4, 0xea, 0xbc, 0xd9, 0x2c, 0xca, 0xae, 0xce, 0xe5,
      0xcc, 0xec,
    ]);
    expect(decodeFaqFile(gbk)).toEqual({ text: '问题,答案\n年假,十五天', encoding: 'gb18030' });
  });
});

const pair = (i: number, answer = `answer ${i}`): FaqPair => ({ question: `question ${i}`, answer, line: i + 1 });

describe('batchPairs', () => {
  it('cuts at 200 items', () => {
    const batches = batchPairs(Array.from({ length: 450 }, (_, i) => pair(i)));
    expect(batches.map((b) => b.length)).toEqual([200, 200, 50]);
    expect(batches.flat().map((p) => p.line)).toEqual(Array.from({ length: 450 }, (_, i) => i + 1));
  });

  it('cuts before a request body would pass 900 KB, counting UTF-8 bytes of the JSON sent', () => {
    const big = '答'.repeat(ANSWER_MAX); // 60 KB of UTF-8
    const pairs = Array.from({ length: 40 }, (_, i) => pair(i, big));
    const batches = batchPairs(pairs);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.flat()).toEqual(pairs);
    for (const batch of batches) {
      const bytes = new TextEncoder().encode(
        JSON.stringify({ documents: batch.map(({ question, answer }) => ({ question, answer })) }),
      ).length;
      expect(bytes).toBeLessThanOrEqual(900_000);
    }
    // and no batch could have taken one more pair
    for (let i = 0; i < batches.length - 1; i++) {
      const grown = [...batches[i]!, batches[i + 1]![0]!].map(({ question, answer }) => ({ question, answer }));
      expect(new TextEncoder().encode(JSON.stringify({ documents: grown })).length).toBeGreaterThan(900_000);
    }
  });
});

describe('importFaqPairs', () => {
  it('sends the batches one after another, without the line numbers, and counts added and duplicates', async () => {
    const pairs = Array.from({ length: 250 }, (_, i) => pair(i));
    let inFlight = 0;
    const send = vi.fn(async (batch: { question: string; answer: string }[]) => {
      expect(++inFlight).toBe(1);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return batch.map((item) => ({ duplicate: item.question.endsWith('7') }));
    });
    const progress: [number, number][] = [];
    const summary = await importFaqPairs(pairs, send, (done, total) => progress.push([done, total]));
    expect(send).toHaveBeenCalledTimes(2);
    expect(send.mock.calls[0]![0]).toHaveLength(200);
    expect(send.mock.calls[0]![0][0]).toEqual({ question: 'question 0', answer: 'answer 0' });
    expect(progress).toEqual([
      [0, 250],
      [200, 250],
      [250, 250],
    ]);
    expect(summary).toEqual({ added: 225, duplicates: 25, failed: null });
  });

  it('stops at a failed batch and lists every pair that was not imported', async () => {
    const pairs = Array.from({ length: 450 }, (_, i) => pair(i));
    const send = vi
      .fn<(batch: { question: string; answer: string }[]) => Promise<{ duplicate: boolean }[]>>()
      .mockImplementationOnce(async (batch) => batch.map(() => ({ duplicate: false })))
      .mockRejectedValueOnce(new Error('documents.3.answer: Too big'));
    const summary = await importFaqPairs(pairs, send);
    expect(send).toHaveBeenCalledTimes(2);
    expect(summary.added).toBe(200);
    expect(summary.duplicates).toBe(0);
    expect(summary.failed?.message).toBe('documents.3.answer: Too big');
    expect(summary.failed?.notImported).toEqual(pairs.slice(200));
  });
});
