import { htmlTitle, htmlToText } from './html-to-text.ts';
import { markdownTable } from './markdown-table.ts';
import { UnparseableError, type ParsedDocument, type ParsedSection, type ParseableMime } from './parsed-document.ts';
import { parsePdf, type PdfOptions } from './pdf.ts';
import { parsePptx } from './pptx.ts';
import { assertZipWithinBounds } from './zip-bounds.ts';

export type ParseOptions = PdfOptions;

/**
 * Bytes → text sections, by sniffed type. CPU-heavy (PDF, Office): runs in the parser pool's
 * worker threads, never on the event loop of a server (see parser-pool.ts).
 */
export async function parseDocument(
  bytes: Uint8Array,
  mime: ParseableMime,
  options: ParseOptions = {},
): Promise<ParsedDocument> {
  if (bytes.length === 0) throw new UnparseableError('The file is empty');
  const parsed = await parseByType(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), mime, options);
  const sections = parsed.sections
    .map((s) => ({
      ...s,
      text: s.text
        .normalize('NFKC')
        .replace(/\u0000/g, '')
        .trim(),
    }))
    .filter((s) => s.text.length > 0);
  if (!sections.length) throw new UnparseableError('No text could be extracted from this file (is it empty?)');
  return { ...parsed, sections };
}

async function parseByType(buffer: Buffer, mime: ParseableMime, options: ParseOptions): Promise<ParsedDocument> {
  switch (mime) {
    case 'application/pdf':
      return parsePdf(buffer, options);
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      return parseDocx(buffer);
    case 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
      return parseXlsx(buffer);
    case 'application/vnd.openxmlformats-officedocument.presentationml.presentation':
      return parsePptx(buffer);
    case 'text/html': {
      const html = decodeText(buffer);
      return { title: htmlTitle(html), sections: markdownSections(htmlToText(html)) };
    }
    case 'text/markdown':
      return { sections: markdownSections(decodeText(buffer)) };
    case 'text/csv':
      return { sections: rowsToSections(parseCsv(decodeText(buffer))) };
    case 'text/plain':
      return { sections: [{ text: decodeText(buffer) }] };
  }
}

function decodeText(buffer: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer).replace(/^\uFEFF/, '');
  } catch {
    throw new UnparseableError('The file is not valid UTF-8 text');
  }
}

/** Splits Markdown at headings, remembering the heading path of each section. */
export function markdownSections(markdown: string): ParsedSection[] {
  const sections: ParsedSection[] = [];
  const path: string[] = [];
  let lines: string[] = [];
  let hasBody = false;
  let inFence = false;
  const flush = () => {
    const text = lines.join('\n').trim();
    // A heading with nothing under it before the next heading lives on in its children's paths.
    if (text && hasBody) sections.push({ text, headings: [...path] });
    lines = [];
    hasBody = false;
  };
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      const level = heading[1]!.length;
      path.length = Math.min(path.length, level - 1);
      while (path.length < level - 1) path.push('');
      path[level - 1] = heading[2]!;
      lines.push(heading[2]!);
    } else {
      lines.push(line);
      if (line.trim()) hasBody = true;
    }
  }
  flush();
  return sections.map((s) => ({ ...s, headings: s.headings?.filter(Boolean) }));
}

// ---------------------------------------------------------------------------------------------
// Office

async function parseDocx(buffer: Buffer): Promise<ParsedDocument> {
  assertZipWithinBounds(buffer, 'Word document');
  const mammoth = (await import('mammoth')).default;
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer })).value;
  } catch (error) {
    throw new UnparseableError(`The Word document could not be read: ${(error as Error).message}`);
  }
  return { sections: markdownSections(htmlToText(html)) };
}

async function parseXlsx(buffer: Buffer): Promise<ParsedDocument> {
  assertZipWithinBounds(buffer, 'spreadsheet');
  const ExcelJS = (await import('exceljs')).default;
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
  } catch (error) {
    throw new UnparseableError(`The spreadsheet could not be read: ${(error as Error).message}`);
  }
  const sections: ParsedSection[] = [];
  workbook.eachSheet((sheet) => {
    const rows: string[][] = [];
    sheet.eachRow({ includeEmpty: false }, (row) => {
      const values = Array.isArray(row.values) ? row.values.slice(1) : [];
      rows.push(values.map((v) => cellText(v)));
    });
    for (const s of rowsToSections(rows)) sections.push({ ...s, headings: [sheet.name] });
  });
  return { sections };
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const v = value as { text?: unknown; result?: unknown; richText?: { text: string }[]; hyperlink?: string };
    if (v.richText) return v.richText.map((r) => r.text).join('');
    if (v.text !== undefined) return cellText(v.text);
    if (v.result !== undefined) return cellText(v.result);
    return '';
  }
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Tables (a sheet, a CSV file) stay tables: Markdown, the first non-empty row as the header.

export function rowsToSections(rows: string[][]): ParsedSection[] {
  const nonEmpty = rows.filter((r) => r.some((c) => c.trim()));
  if (!nonEmpty.length) return [];
  // A one-row sheet is a line of values, not a table.
  if (nonEmpty.length === 1) return [{ text: nonEmpty[0]!.join('; ') }];
  return [{ text: markdownTable(nonEmpty) }];
}

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF), with `;` or tab detected as the delimiter. */
export function parseCsv(text: string): string[][] {
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length] as const);
  const delimiter = counts.sort((a, b) => b[1] - a[1])[0]![0];
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
