import { createRequire } from 'node:module';
import path from 'node:path';
import { htmlTitle, htmlToText } from './html-to-text.ts';
import { UnparseableError, type ParsedDocument, type ParsedSection, type ParseableMime } from './parsed-document.ts';
import { assertZipWithinBounds } from './zip-bounds.ts';

/** Past this a PDF is refused rather than read for minutes (the pool's time limit bounds the rest). */
export const MAX_PDF_PAGES = 2_000;

/**
 * Bytes → text sections, by sniffed type. CPU-heavy (PDF, Office): runs in the parser pool's
 * worker threads, never on the event loop of a server (see parser-pool.ts).
 */
export async function parseDocument(bytes: Uint8Array, mime: ParseableMime): Promise<ParsedDocument> {
  if (bytes.length === 0) throw new UnparseableError('The file is empty');
  const parsed = await parseByType(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), mime);
  const sections = parsed.sections
    .map((s) => ({
      ...s,
      text: s.text
        .normalize('NFKC')
        .replace(/\u0000/g, '')
        .trim(),
    }))
    .filter((s) => s.text.length > 0);
  if (!sections.length)
    throw new UnparseableError('No text could be extracted from this file (is it empty or scanned images?)');
  return { ...parsed, sections };
}

async function parseByType(buffer: Buffer, mime: ParseableMime): Promise<ParsedDocument> {
  switch (mime) {
    case 'application/pdf':
      return parsePdf(buffer);
    case 'application/vnd.openxmlformats-officedocument.wordprocessingml.document':
      return parseDocx(buffer);
    case 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet':
      return parseXlsx(buffer);
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
// PDF

const require = createRequire(import.meta.url);
const pdfjsRoot = path.dirname(require.resolve('pdfjs-dist/package.json'));

async function parsePdf(buffer: Buffer): Promise<ParsedDocument> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  let doc;
  try {
    doc = await pdfjs.getDocument({
      data: new Uint8Array(buffer),
      standardFontDataUrl: `${path.join(pdfjsRoot, 'standard_fonts')}/`,
      cMapUrl: `${path.join(pdfjsRoot, 'cmaps')}/`,
      cMapPacked: true,
      isEvalSupported: false,
      useSystemFonts: false,
      verbosity: 0,
    }).promise;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'PasswordException') throw new UnparseableError('The PDF is password-protected');
    throw new UnparseableError(`The PDF could not be read: ${(error as Error).message}`);
  }
  try {
    if (doc.numPages > MAX_PDF_PAGES)
      throw new UnparseableError(
        `The PDF has ${doc.numPages.toLocaleString('en')} pages; at most ${MAX_PDF_PAGES.toLocaleString('en')} are read`,
      );
    const sections: ParsedSection[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str;
        if (item.hasEOL) text += '\n';
      }
      sections.push({ text, page: n });
      page.cleanup();
    }
    return { sections, pageCount: doc.numPages };
  } finally {
    await doc.destroy();
  }
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
// Tables: each row becomes one line "Header: value; Header: value" so a row is retrieved whole.

export function rowsToSections(rows: string[][]): ParsedSection[] {
  const nonEmpty = rows.filter((r) => r.some((c) => c.trim()));
  if (!nonEmpty.length) return [];
  const [header, ...body] = nonEmpty;
  const names = header!.map((h, i) => h.trim() || `Column ${i + 1}`);
  const lines = (body.length ? body : [header!]).map((row) =>
    body.length
      ? row
          .map((cell, i) => (cell.trim() ? `${names[i] ?? `Column ${i + 1}`}: ${cell.trim()}` : ''))
          .filter(Boolean)
          .join('; ')
      : row.join('; '),
  );
  return [{ text: lines.filter(Boolean).join('\n') }];
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
