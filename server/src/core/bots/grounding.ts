import { randomBytes } from 'node:crypto';
import type { SearchHit } from '../knowledge/retrieval.service.ts';

/** What a bot message cites: enough to show a chip and open the passage. */
export interface Citation {
  index: number;
  documentId: string;
  chunkId: string;
  title: string;
  page: number | null;
  snippet: string;
  /** The source's own address (a URL import), which a link in the answer may point to; absent on older answers. */
  url?: string | null;
  /** A newer version of the document has replaced the passage since: `snippet` is what was cited. */
  replaced?: boolean;
}

const SNIPPET_CHARS = 400;

/**
 * A passage's opening as a citation shows it: whole sentences up to `max` characters (a Chinese
 * character counts one), else whole words, never a word or a Markdown line cut in half where it
 * can be helped; an ellipsis says there is more (the document view shows it all).
 */
export function snippetOf(text: string, max = SNIPPET_CHARS): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const head = chars.slice(0, max).join('');
  let sentenceEnd = -1;
  for (const match of head.matchAll(/[.!?。！？](?=\s|$)|[。！？]|\n\n/gu)) sentenceEnd = match.index + match[0].length;
  if (sentenceEnd >= head.length / 3) return `${head.slice(0, sentenceEnd).trimEnd()} …`;
  const space = head.search(/\s\S*$/u);
  return `${(space > head.length / 2 ? head.slice(0, space) : head).trimEnd()}…`;
}

export function buildCitations(hits: SearchHit[]): Citation[] {
  return hits.map((h, i) => ({
    index: i + 1,
    documentId: h.documentId,
    chunkId: h.chunkId,
    title: h.title,
    page: h.page,
    url: h.sourceUrl,
    snippet: snippetOf(h.text),
  }));
}

/** Retrieved passages fenced for a prompt: the system message names `boundary` (prompts/untrusted-data.md). */
export interface FencedContext {
  context: string;
  boundary: string;
}

/**
 * The numbered passages as the model sees them, between an opening and a closing marker that carry
 * a boundary drawn afresh for each request. Document text is data, never instructions: a passage
 * that writes a closing marker of its own cannot end the fence, since it cannot know the boundary
 * (and one that holds it by chance makes us draw another).
 */
export function fenceContext(hits: SearchHit[]): FencedContext {
  const body = hits.map((h, i) => `[${i + 1}] ${h.title}${h.page ? ` (page ${h.page})` : ''}:\n${h.text}`).join('\n\n');
  let boundary = randomBytes(9).toString('hex');
  while (body.includes(boundary)) boundary = randomBytes(9).toString('hex');
  return { context: `<<<DOCUMENTS ${boundary}>>>\n${body}\n<<<END DOCUMENTS ${boundary}>>>`, boundary };
}

/**
 * The text without its citation markers: a reply an agent sends in their own words, where the
 * citations are listed beside the draft rather than as bare "[1]" in the message.
 */
export function withoutCitationMarkers(text: string): string {
  return text
    .replace(/[ \t]*\[\d{1,2}\]/g, '')
    .replace(/[ \t]+$/gm, '')
    .trim();
}

/** Citation numbers an answer uses ([1], [2][3] …), in order of first use. */
export function citedIndexes(text: string): number[] {
  const seen: number[] = [];
  for (const match of text.matchAll(/\[(\d{1,2})\]/g)) {
    const n = Number(match[1]);
    if (!seen.includes(n)) seen.push(n);
  }
  return seen;
}
