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

/** A table row as a record, "Header: cell; Header: cell", with its cells' text alone. */
export interface TableRecord {
  record: string;
  cells: string;
}

/**
 * A passage's prose with its Markdown tables cut out, and the tables' rows as records: for readers
 * that take text sentence by sentence (the offline answerer), to which a row alone
 * ("| Garage B | 3 EUR |") does not say what its cells are.
 */
export function separateTables(text: string): { prose: string; records: TableRecord[] } {
  const lines = text.split('\n');
  const prose: string[] = [];
  const records: TableRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!(TABLE_LINE.test(lines[i]!) && TABLE_DIVIDER.test(lines[i + 1] ?? ''))) {
      prose.push(lines[i]!);
      continue;
    }
    const names = cellsOf(lines[i]!);
    for (i += 2; i < lines.length && TABLE_LINE.test(lines[i]!); i++) {
      const cells = cellsOf(lines[i]!);
      const record = cells
        .map((cell, c) => (cell ? `${names[c] ?? `Column ${c + 1}`}: ${cell}` : ''))
        .filter(Boolean)
        .join('; ');
      if (record) records.push({ record, cells: cells.join(' ') });
    }
    i--;
  }
  return { prose: prose.join('\n'), records };
}
