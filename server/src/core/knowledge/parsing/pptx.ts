import { decodeEntities } from './html-to-text.ts';
import { markdownTable } from './markdown-table.ts';
import { UnparseableError, type ParsedDocument, type ParsedSection } from './parsed-document.ts';
import { assertZipWithinBounds } from './zip-bounds.ts';
import { readZipParts } from './zip-read.ts';

/**
 * PowerPoint (.pptx) → one section per slide, its number as the page (so a citation names the
 * slide): the text of its shapes paragraph by paragraph, tables as Markdown tables. Slides are
 * taken in the presentation's order, not the order of their part names; hidden slides too.
 */
export function parsePptx(buffer: Buffer): ParsedDocument {
  assertZipWithinBounds(buffer, 'presentation');
  const parts = readZipParts(
    buffer,
    (name) =>
      name === 'ppt/presentation.xml' ||
      name === 'ppt/_rels/presentation.xml.rels' ||
      /^ppt\/slides\/slide\d+\.xml$/.test(name),
    'presentation',
  );
  const presentation = parts.get('ppt/presentation.xml')?.toString('utf8');
  if (!presentation) throw new UnparseableError('The presentation could not be read: it has no ppt/presentation.xml');
  const targets = new Map<string, string>();
  for (const rel of (parts.get('ppt/_rels/presentation.xml.rels')?.toString('utf8') ?? '').matchAll(
    /<Relationship\b[^>]*>/g,
  )) {
    const id = /\bId="([^"]+)"/.exec(rel[0])?.[1];
    const target = /\bTarget="([^"]+)"/.exec(rel[0])?.[1];
    if (id && target) targets.set(id, target.replace(/^\/?(ppt\/)?/, 'ppt/'));
  }
  const order = [...presentation.matchAll(/<p:sldId\b[^>]*\br:id="([^"]+)"/g)]
    .map((m) => targets.get(m[1]!))
    .filter((t): t is string => !!t && parts.has(t));
  const slides = order.length
    ? order
    : [...parts.keys()]
        .filter((n) => n.startsWith('ppt/slides/'))
        .sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
  const sections: ParsedSection[] = slides.map((name, i) => ({
    text: slideText(parts.get(name)!.toString('utf8')),
    page: i + 1,
  }));
  return { sections, pageCount: slides.length };
}

const paragraphText = (xml: string) =>
  [...xml.matchAll(/<a:t(?:\s[^>]*)?>([\s\S]*?)<\/a:t>|<a:br\b[^>]*\/>/g)]
    .map((m) => (m[1] === undefined ? '\n' : decodeEntities(m[1])))
    .join('');

function slideText(xml: string): string {
  const blocks: string[] = [];
  // Tables first, cut out so their paragraphs are not read twice.
  const rest = xml.replace(/<a:tbl>([\s\S]*?)<\/a:tbl>/g, (_m, table: string) => {
    const rows = [...table.matchAll(/<a:tr\b[\s\S]*?<\/a:tr>/g)].map((tr) =>
      [...tr[0].matchAll(/<a:tc\b[\s\S]*?<\/a:tc>/g)].map((tc) =>
        [...tc[0].matchAll(/<a:p\b[\s\S]*?<\/a:p>/g)].map((p) => paragraphText(p[0])).join(' '),
      ),
    );
    if (rows.length) blocks.push(markdownTable(rows));
    return '';
  });
  const paragraphs = [...rest.matchAll(/<a:p\b[\s\S]*?<\/a:p>/g)].map((p) => paragraphText(p[0]).trim());
  return [paragraphs.filter(Boolean).join('\n'), ...blocks].filter(Boolean).join('\n\n');
}
