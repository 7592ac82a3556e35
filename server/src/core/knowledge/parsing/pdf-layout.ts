import { markdownTable } from './markdown-table.ts';

/** A run of text as pdf.js places it: `x`, `y` of its start, in page units. */
export interface PlacedText {
  str: string;
  x: number;
  y: number;
  width: number;
  /** Font size (the text's height). */
  size: number;
  hasEOL: boolean;
}

interface Cell {
  text: string;
  x0: number;
  x1: number;
}

interface Line {
  /** The line as it reads (runs in order, a space where they are apart). */
  text: string;
  cells: Cell[];
  size: number;
}

/**
 * A page's text, with tables kept as Markdown tables: runs are gathered into lines; a gap wider
 * than a character or so between runs starts a new cell; two or more lines in a row whose cells
 * line up under the same columns are a table (the first of them its header).
 */
export function pageText(items: PlacedText[]): string {
  return linesToText(toLines(items));
}

function toLines(items: PlacedText[]): Line[] {
  const lines: Line[] = [];
  let current: Line | undefined;
  let lastY = 0;
  let lastEnd = 0;
  let brokeLine = true;
  for (const item of items) {
    if (item.str.trim() === '') {
      if (item.hasEOL) brokeLine = true;
      continue;
    }
    const size = item.size || 10;
    const newLine = !current || brokeLine || Math.abs(item.y - lastY) > size * 0.5 || item.x < lastEnd - size;
    if (newLine) {
      current = { text: '', cells: [], size };
      lines.push(current);
    }
    const gap = item.x - lastEnd;
    const cell = current!.cells.at(-1);
    if (newLine || !cell || gap > size * 1.2) {
      if (!newLine) current!.text += ' ';
      current!.cells.push({ text: item.str.trim(), x0: item.x, x1: item.x + item.width });
    } else {
      const spaced = gap > size * 0.2 && !/\s$/.test(cell.text) && !/^\s/.test(item.str);
      cell.text = (cell.text + (spaced ? ' ' : '') + item.str).trim();
      cell.x1 = item.x + item.width;
      if (spaced) current!.text += ' ';
    }
    current!.text += item.str;
    current!.size = Math.max(current!.size, size);
    lastY = item.y;
    lastEnd = item.x + item.width;
    brokeLine = item.hasEOL;
  }
  return lines;
}

/** The column of each cell, or undefined when the line does not fit under `columns`. */
function fitColumns(line: Line, columns: Cell[]): number[] | undefined {
  const tolerance = line.size * 2;
  const placed: number[] = [];
  for (const cell of line.cells) {
    let best = -1;
    let bestOverlap = 0;
    columns.forEach((col, i) => {
      const overlap = Math.min(cell.x1, col.x1 + tolerance) - Math.max(cell.x0, col.x0 - tolerance);
      if (overlap > bestOverlap) {
        best = i;
        bestOverlap = overlap;
      }
    });
    if (best < 0 || placed.includes(best) || (placed.length && best < placed.at(-1)!)) return undefined;
    placed.push(best);
  }
  return placed;
}

function linesToText(lines: Line[]): string {
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    const header = lines[i]!;
    const rows: string[][] = [];
    if (header.cells.length >= 2) {
      const columns = header.cells;
      for (let j = i + 1; j < lines.length; j++) {
        const line = lines[j]!;
        const fit = line.cells.length >= 2 ? fitColumns(line, columns) : undefined;
        if (!fit) break;
        const row = columns.map(() => '');
        fit.forEach((col, k) => (row[col] = line.cells[k]!.text));
        rows.push(row);
      }
    }
    if (rows.length) {
      out.push('', markdownTable([header.cells.map((c) => c.text), ...rows]), '');
      i += rows.length + 1;
    } else {
      out.push(header.text);
      i++;
    }
  }
  return out.join('\n');
}
