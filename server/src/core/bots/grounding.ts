import type { SearchHit } from '../knowledge/retrieval.service.ts';

/** What a bot message cites: enough to show a chip and open the passage. */
export interface Citation {
  index: number;
  documentId: string;
  chunkId: string;
  title: string;
  page: number | null;
  snippet: string;
}

const SNIPPET_CHARS = 300;

export function buildCitations(hits: SearchHit[]): Citation[] {
  return hits.map((h, i) => ({
    index: i + 1,
    documentId: h.documentId,
    chunkId: h.chunkId,
    title: h.title,
    page: h.page,
    snippet: [...h.text].length > SNIPPET_CHARS ? `${[...h.text].slice(0, SNIPPET_CHARS).join('')}…` : h.text,
  }));
}

/** The numbered passages as the model sees them. */
export function formatContext(hits: SearchHit[]): string {
  return hits.map((h, i) => `[${i + 1}] ${h.title}${h.page ? ` (page ${h.page})` : ''}:\n${h.text}`).join('\n\n');
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
