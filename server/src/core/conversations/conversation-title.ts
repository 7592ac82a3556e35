/** A conversation list shows about this many characters of a title before it wraps on a phone. */
const TITLE_CHARS = 40;

/** Markdown reduced to its words: a title shows what was asked, not how it was formatted. */
function plainText(markdown: string): string {
  return (
    markdown
      // Fenced code: its language tag goes, its text stays.
      .replace(/```[^\n]*\n?/g, ' ')
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, ' ')
      .replace(/^\s{0,3}(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)/gm, '')
      .replace(/(\*\*|__|~~|`)/g, '')
      .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,!?:;]|$)/g, '$1$2')
  );
}

const WIDE = /[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/u;

/**
 * A short title from a question: Markdown stripped, whitespace collapsed, at most `max` characters
 * (a Chinese character counts one), cut after a whole word where the text has spaces between words,
 * else between characters, with an ellipsis when something was left out.
 */
export function shortTitle(text: string, max = TITLE_CHARS): string {
  const oneLine = plainText(text).replace(/\s+/g, ' ').trim();
  const chars = [...oneLine];
  if (chars.length <= max) return oneLine;
  const head = chars.slice(0, max - 1);
  const lastSpace = head.lastIndexOf(' ');
  // Spaced words (English): cut at the last space if that keeps most of the room; CJK runs have none.
  const cut = lastSpace >= max / 2 && !WIDE.test(chars[max - 1] ?? '') ? head.slice(0, lastSpace) : head;
  return `${cut.join('').replace(/[\s,.;:!?，。；：！？、-]+$/u, '')}…`;
}
