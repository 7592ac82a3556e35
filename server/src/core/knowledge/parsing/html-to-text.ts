import { markdownTable } from './markdown-table.ts';

/**
 * HTML → Markdown-like text: headings become `#` lines (so the splitter keeps heading paths),
 * tables Markdown tables, blocks lines, scripts/styles/navigation chrome are dropped, entities decoded.
 * Deliberately small: pages are indexed for their words, not rendered.
 */
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  mdash: '—',
  ndash: '–',
  hellip: '…',
  copy: '©',
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, code: string) => {
    if (code[0] === '#') {
      const n = code[1] === 'x' || code[1] === 'X' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : whole;
    }
    return ENTITIES[code.toLowerCase()] ?? whole;
  });
}

export function htmlTitle(html: string): string | undefined {
  const m = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const title = m
    ? decodeEntities(m[1]!.replace(/<[^>]+>/g, ''))
        .replace(/\s+/g, ' ')
        .trim()
    : '';
  return title || undefined;
}

export function htmlToText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|noscript|template|svg|nav|footer|head)\b[\s\S]*?<\/\1\s*>/gi, '\n');
  s = tablesToMarkdown(s);
  s = s.replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi, (_m, level: string, inner: string) => {
    const text = inner
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    return text ? `\n\n${'#'.repeat(Number(level))} ${text}\n\n` : '\n';
  });
  s = s
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<(br|hr)\b[^>]*>/gi, '\n')
    .replace(/<\/(p|div|section|article|li|ul|ol|table|tr|blockquote|pre|dd|dt|figure|main|header)\s*>/gi, '\n\n')
    .replace(/<\/(td|th)\s*>/gi, '\t')
    .replace(/<[^>]+>/g, '');
  return decodeEntities(s)
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const INNERMOST_TABLE = /<table\b[^>]*>((?:(?!<table\b)[\s\S])*?)<\/table\s*>/gi;

/**
 * Each table (innermost first: a nested one becomes text in its outer cell) → a Markdown table,
 * its first row the header. A one-row or one-column table is layout, not data: its cells become lines.
 */
function tablesToMarkdown(html: string): string {
  const cellText = (inner: string) =>
    inner
      .replace(/<(br|p|div|li)\b[^>]*>/gi, ' ')
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ')
      .trim();
  let previous;
  do {
    previous = html;
    html = html.replace(INNERMOST_TABLE, (_m, body: string) => {
      const rows = [...body.matchAll(/<tr\b[^>]*>([\s\S]*?)(?=<tr\b|<\/tbody|<\/thead|<\/tfoot|$)/gi)]
        .map((tr) =>
          [...tr[1]!.matchAll(/<t([dh])\b[^>]*>([\s\S]*?)(?=<t[dh]\b|<\/tr|$)/gi)].map((c) => cellText(c[2]!)),
        )
        .filter((r) => r.some(Boolean));
      if (rows.length >= 2 && Math.max(...rows.map((r) => r.length)) >= 2) return `\n\n${markdownTable(rows)}\n\n`;
      return `\n\n${rows.flat().filter(Boolean).join('\n')}\n\n`;
    });
  } while (html !== previous);
  return html;
}

/** Same-document links of a page (for crawling), absolute, without fragments. */
export function htmlLinks(html: string, base: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(/<a\b[^>]*\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const href = decodeEntities(m[1] ?? m[2] ?? m[3] ?? '').trim();
    if (!href || href.startsWith('javascript:') || href.startsWith('mailto:')) continue;
    try {
      const url = new URL(href, base);
      url.hash = '';
      if (url.protocol === 'http:' || url.protocol === 'https:') out.add(url.toString());
    } catch {
      // not a URL
    }
  }
  return [...out];
}
