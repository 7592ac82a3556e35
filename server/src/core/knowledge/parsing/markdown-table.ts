/**
 * Tables travel through parsing and chunking as Markdown tables: a header row, a `| --- |` row,
 * then one line per row. A row is one line, so the splitter can keep rows whole and repeat the
 * header above every part of a long table (text/splitter.ts); the model reads the layout as is.
 */

function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

/** Rows of cells → a Markdown table, the first row its header; ragged rows are padded. */
export function markdownTable(rows: string[][]): string {
  const width = Math.max(...rows.map((r) => r.length));
  const line = (r: string[]) => `| ${Array.from({ length: width }, (_, i) => cell(r[i] ?? '')).join(' | ')} |`;
  const [header, ...body] = rows;
  const names = header!.map((h, i) => cell(h) || `Column ${i + 1}`);
  return [line(names), `| ${Array.from({ length: width }, () => '---').join(' | ')} |`, ...body.map(line)].join('\n');
}

export const TABLE_LINE = /^\|.*\|\s*$/;
export const TABLE_DIVIDER = /^\|(\s*:?-{3,}:?\s*\|)+\s*$/;
