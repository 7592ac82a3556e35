/**
 * A passage's text (a chunk, a citation's snippet) as blocks: prose, and the Markdown tables the
 * parser keeps tables as (a header line, a `| --- |` line, rows). A table cut short by a
 * snippet's end keeps the rows it has.
 */
export type PassageBlock = { kind: 'text'; text: string } | { kind: 'table'; header: string[]; rows: string[][] };

const ROW = /^\|.*\|\s*$/;
/** A row within a table: a snippet may end inside one. */
const MORE = /^\|/;
const DIVIDER = /^\|(\s*:?-{3,}:?\s*\|)+\s*$/;

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/…$/, '')
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
}

export function passageBlocks(text: string): PassageBlock[] {
  const lines = text.split('\n');
  const blocks: PassageBlock[] = [];
  let prose: string[] = [];
  const flush = () => {
    const joined = prose.join('\n').trim();
    if (joined) blocks.push({ kind: 'text', text: joined });
    prose = [];
  };
  for (let i = 0; i < lines.length; i++) {
    if (ROW.test(lines[i]!) && DIVIDER.test(lines[i + 1] ?? '')) {
      flush();
      const header = cells(lines[i]!);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && MORE.test(lines[i]!); i++) rows.push(cells(lines[i]!));
      i--;
      blocks.push({ kind: 'table', header, rows });
    } else prose.push(lines[i]!);
  }
  flush();
  return blocks;
}
