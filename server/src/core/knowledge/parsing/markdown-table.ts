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

/** A table line's cells (`\|` is a pipe inside a cell). */
function cellsOf(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

/**
 * Text with each Markdown table's rows written as records, "Header: cell; Header: cell", one a
 * line: for readers that take text sentence by sentence (the offline answerer), to which a row
 * alone ("| Garage B | 3 EUR |") does not say what its cells are.
 */
export function tablesAsRecords(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!(TABLE_LINE.test(lines[i]!) && TABLE_DIVIDER.test(lines[i + 1] ?? ''))) {
      out.push(lines[i]!);
      continue;
    }
    const names = cellsOf(lines[i]!);
    for (i += 2; i < lines.length && TABLE_LINE.test(lines[i]!); i++) {
      const record = cellsOf(lines[i]!)
        .map((cell, c) => (cell ? `${names[c] ?? `Column ${c + 1}`}: ${cell}` : ''))
        .filter(Boolean)
        .join('; ');
      if (record) out.push(record);
    }
    i--;
  }
  return out.join('\n');
}
