/**
 * Bulk FAQ import, the parts that need no Vue: reading a spreadsheet export (CSV or TSV, two
 * columns: question, answer) into pairs the server will accept, cutting them into request-sized
 * batches, and sending those batches one after another.
 */

/** The server's limits for one FAQ entry (after trimming), as `POST .../documents` checks them. */
export const QUESTION_MAX = 2000;
export const ANSWER_MAX = 20_000;
/** Items per bulk request (the server takes up to 500) and bytes of JSON per request (its body limit is 1 MB). */
export const BATCH_MAX_ITEMS = 200;
export const BATCH_MAX_BYTES = 900_000;

export interface FaqPair {
  question: string;
  answer: string;
  /** 1-based line of the file where the row starts (a quoted field may span several lines). */
  line: number;
}

export type FaqRowProblem =
  | 'missingQuestion'
  | 'missingAnswer'
  | 'questionTooLong'
  | 'answerTooLong'
  | 'extraColumns'
  | 'unclosedQuote'
  | 'invalidText';

export interface FaqRowError {
  line: number;
  problem: FaqRowProblem;
}

export interface FaqParseResult {
  delimiter: ',' | '\t';
  pairs: FaqPair[];
  errors: FaqRowError[];
  /** Rows identical to an earlier row (same question and answer): imported once, at the earlier line. */
  repeats: { line: number; firstLine: number }[];
  headerSkipped: boolean;
}

interface CsvRecord {
  cells: string[];
  line: number;
  unclosed: boolean;
}

/**
 * RFC 4180 records with their starting line: quoted fields may hold the delimiter, doubled quotes
 * and line breaks. Line breaks are normalised to `\n` first (CRLF and lone CR count as one break).
 * Lenient like spreadsheets are: a quote inside an unquoted field is kept as a character.
 */
export function parseDelimited(text: string, delimiter: ',' | '\t'): CsvRecord[] {
  const src = text.replace(/\r\n?/g, '\n');
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let i = 0;
  const endRecord = (unclosed = false) => {
    cells.push(field);
    records.push({ cells, line: start, unclosed });
    cells = [];
    field = '';
  };
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === '\n') line += 1;
        field += ch;
      }
      i += 1;
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      cells.push(field);
      field = '';
    } else if (ch === '\n') {
      endRecord();
      line += 1;
      start = line;
    } else field += ch;
    i += 1;
  }
  // The last record has no line break after it (or is an empty line after the final break: dropped).
  if (quoted) endRecord(true);
  else if (field !== '' || cells.length) endRecord();
  return records;
}

/** Tab-separated when the file says so by its name, or when the first line has tabs and no commas. */
export function detectDelimiter(text: string, fileName?: string): ',' | '\t' {
  const ext = fileName?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if (ext === 'tsv' || ext === 'tab') return '\t';
  if (ext === 'csv') return ',';
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r\n?|\n/, 1)[0] ?? '';
  return firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
}

const HEADERS: [string, string][] = [
  ['question', 'answer'],
  ['问题', '答案'],
];

function isHeader(cells: string[]): boolean {
  const [q, a] = cells.map((c) => c.trim().toLowerCase());
  return HEADERS.some(([hq, ha]) => q === hq && a === ha);
}

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function problemOf(cells: string[], unclosed: boolean): FaqRowProblem | null {
  if (unclosed) return 'unclosedQuote';
  const [question = '', answer = '', ...rest] = cells.map((c) => c.trim());
  // A third value is most likely an answer with an unquoted comma: sending only part of it would lose text.
  if (rest.some((c) => c !== '')) return 'extraColumns';
  if (!question) return 'missingQuestion';
  if (!answer) return 'missingAnswer';
  if (question.length > QUESTION_MAX) return 'questionTooLong';
  if (answer.length > ANSWER_MAX) return 'answerTooLong';
  // The server refuses a whole request holding NUL or a lone surrogate (a UTF-16 file read as UTF-8 has NULs).
  if (UNSTORABLE.test(question) || UNSTORABLE.test(answer)) return 'invalidText';
  return null;
}

/** Question/answer pairs from pasted text or a file's text; rows that cannot be sent are listed with their line. */
export function parseFaqText(text: string, options: { fileName?: string } = {}): FaqParseResult {
  const body = text.replace(/^\uFEFF/, '');
  const delimiter = detectDelimiter(body, options.fileName);
  const result: FaqParseResult = { delimiter, pairs: [], errors: [], repeats: [], headerSkipped: false };
  const seen = new Map<string, number>();
  let first = true;
  for (const record of parseDelimited(body, delimiter)) {
    if (!record.unclosed && record.cells.every((c) => c.trim() === '')) continue;
    if (first) {
      first = false;
      if (isHeader(record.cells)) {
        result.headerSkipped = true;
        continue;
      }
    }
    const problem = problemOf(record.cells, record.unclosed);
    if (problem) {
      result.errors.push({ line: record.line, problem });
      continue;
    }
    const question = record.cells[0]!.trim();
    const answer = record.cells[1]!.trim();
    const key = JSON.stringify([question, answer]);
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      result.repeats.push({ line: record.line, firstLine });
      continue;
    }
    seen.set(key, record.line);
    result.pairs.push({ question, answer, line: record.line });
  }
  return result;
}

/**
 * A file's text: UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"), or,
 * when the bytes are not valid UTF-8, GB18030 — what Excel on a Chinese Windows saves as CSV.
 */
export function decodeFaqFile(bytes: Uint8Array): { text: string; encoding: string } {
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return { text: new TextDecoder('utf-16le').decode(bytes), encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return { text: new TextDecoder('utf-16be').decode(bytes), encoding: 'utf-16be' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'gb18030' };
  }
}

const encoder = new TextEncoder();
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value)).length;

/** Consecutive batches of at most `maxItems` pairs whose request body stays under `maxBytes`. */
export function batchPairs(pairs: FaqPair[], maxItems = BATCH_MAX_ITEMS, maxBytes = BATCH_MAX_BYTES): FaqPair[][] {
  const batches: FaqPair[][] = [];
  const envelope = jsonBytes({ documents: [] });
  let current: FaqPair[] = [];
  let size = envelope;
  for (const pair of pairs) {
    const itemBytes = jsonBytes({ question: pair.question, answer: pair.answer }) + 1; // and a comma
    if (current.length && (current.length >= maxItems || size + itemBytes > maxBytes)) {
      batches.push(current);
      current = [];
      size = envelope;
    }
    current.push(pair);
    size += itemBytes;
  }
  if (current.length) batches.push(current);
  return batches;
}

export interface FaqImportSummary {
  added: number;
  /** Pairs the collection already had (the server answered `duplicate: true`). */
  duplicates: number;
  /** Set when a batch failed: the import stopped there, and `notImported` were not added. */
  failed: { message: string; notImported: FaqPair[] } | null;
}

/**
 * Sends the pairs batch after batch, in order, and stops at the first failed batch (the server
 * adds nothing of a refused request), so every pair is either counted or listed as not imported.
 */
export async function importFaqPairs(
  pairs: FaqPair[],
  send: (batch: { question: string; answer: string }[]) => Promise<{ duplicate: boolean }[]>,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<FaqImportSummary> {
  const summary: FaqImportSummary = { added: 0, duplicates: 0, failed: null };
  let done = 0;
  onProgress(0, pairs.length);
  for (const batch of batchPairs(pairs)) {
    try {
      const items = await send(batch.map(({ question, answer }) => ({ question, answer })));
      for (const item of items) {
        if (item.duplicate) summary.duplicates += 1;
        else summary.added += 1;
      }
    } catch (error) {
      summary.failed = { message: (error as Error).message, notImported: pairs.slice(done) };
      return summary;
    }
    done += batch.length;
    onProgress(done, pairs.length);
  }
  return summary;
}
