import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { TABLE_DIVIDER, TABLE_LINE } from '../parsing/markdown-table.ts';
import type { ParsedSection } from '../parsing/parsed-document.ts';
import { countTokens } from './tokenize.ts';

export interface SplitOptions {
  /** Chunk size in (approximate) model tokens. */
  chunkTokens: number;
  overlapTokens: number;
}

export const DEFAULT_SPLIT: SplitOptions = { chunkTokens: 512, overlapTokens: 48 };

export interface Piece {
  text: string;
  tokenCount: number;
  metadata: { page?: number; headings?: string[] };
}

// LangChain's splitter with Chinese separators puts the 。 at the start of the next chunk, so a
// line break is put after each sentence end first and the splitter cuts at lines.
const SENTENCE_END = /([。！？；!?]+["”’」』）)]*)(?!\n)/g;
const ENGLISH_SENTENCE_END = /([a-z0-9][.!?]["”’)]*) (?=[A-Z"“‘(])/g;

function markSentences(text: string): string {
  return text.replace(SENTENCE_END, '$1\n').replace(ENGLISH_SENTENCE_END, '$1\n');
}

/** A section's text as runs of prose and Markdown tables (a header line, a divider, rows). */
function segments(text: string): { table: boolean; lines: string[] }[] {
  const lines = text.split('\n');
  const out: { table: boolean; lines: string[] }[] = [];
  for (let i = 0; i < lines.length;) {
    if (TABLE_LINE.test(lines[i]!) && TABLE_DIVIDER.test(lines[i + 1] ?? '')) {
      let end = i + 2;
      while (end < lines.length && TABLE_LINE.test(lines[end]!)) end++;
      out.push({ table: true, lines: lines.slice(i, end) });
      i = end;
    } else {
      const last = out.at(-1);
      if (last && !last.table) last.lines.push(lines[i]!);
      else out.push({ table: false, lines: [lines[i]!] });
      i++;
    }
  }
  return out;
}

/**
 * A table's rows in parts of at most `chunkTokens`, each under the table's header, so a cell is
 * always read with its column name. A row is never cut (one longer than a chunk is a chunk).
 */
function splitTable(lines: string[], chunkTokens: number): string[] {
  const head = lines.slice(0, 2).join('\n');
  const headTokens = countTokens(head);
  const parts: string[] = [];
  let rows: string[] = [];
  let tokens = headTokens;
  for (const row of lines.slice(2)) {
    const rowTokens = countTokens(row) + 1;
    if (rows.length && tokens + rowTokens > chunkTokens) {
      parts.push([head, ...rows].join('\n'));
      rows = [];
      tokens = headTokens;
    }
    rows.push(row);
    tokens += rowTokens;
  }
  if (rows.length || !parts.length) parts.push([head, ...rows].join('\n'));
  return parts;
}

/**
 * Sections → chunks: each section (a page, a heading's text) is split on its own, so every chunk
 * has one page and one heading path. Prose: paragraphs first, then lines (sentences), then
 * clauses. Tables: by whole rows, the header repeated (see splitTable). A table and the prose
 * next to it share a chunk when both fit (a table's caption is read with it).
 */
export async function splitSections(
  sections: ParsedSection[],
  options: SplitOptions = DEFAULT_SPLIT,
): Promise<Piece[]> {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: options.chunkTokens,
    chunkOverlap: options.overlapTokens,
    lengthFunction: countTokens,
    separators: ['\n\n', '\n', '，', '、', ', ', ' ', ''],
    keepSeparator: false,
  });
  const pieces: Piece[] = [];
  for (const section of sections) {
    const metadata: Piece['metadata'] = {};
    if (section.page !== undefined) metadata.page = section.page;
    if (section.headings?.length) metadata.headings = section.headings;
    const texts: string[] = [];
    for (const segment of segments(section.text)) {
      const parts = segment.table
        ? splitTable(segment.lines, options.chunkTokens)
        : (await splitter.splitText(markSentences(segment.lines.join('\n')))).map((raw) =>
            raw
              .replace(/([。！？；]["”’」』）)]*)\n/g, '$1')
              .replace(/([a-z0-9][.!?]["”’)]*)\n(?=[A-Z"“‘(])/g, '$1 ')
              .trim(),
          );
      const [first, ...rest] = parts.filter(Boolean);
      if (first === undefined) continue;
      // Across a prose/table boundary (never inside one run), two parts that fit together are one chunk.
      const last = texts.at(-1);
      if (last !== undefined && countTokens(`${last}\n\n${first}`) <= options.chunkTokens)
        texts[texts.length - 1] = `${last}\n\n${first}`;
      else texts.push(first);
      texts.push(...rest);
    }
    for (const text of texts) pieces.push({ text, tokenCount: countTokens(text), metadata: { ...metadata } });
  }
  return pieces;
}
