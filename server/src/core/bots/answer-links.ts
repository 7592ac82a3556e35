/**
 * Links in answers. A document can carry a link that a model (or the offline answerer's quote)
 * repeats, so an answer keeps a link only when it points to one of its sources' own URL (a URL
 * import's address) or to a domain the administrator allows (ANSWER_LINK_ALLOWED_DOMAINS, with
 * its subdomains). Any other link loses its target and keeps its text; a bare address becomes inline
 * code, readable but not clickable; images never load (their alt text stays). Applied to what /v1
 * returns and to stored bot answers; the web app's renderer applies the same rule again
 * (web/src/utils/markdown.ts).
 */
export interface LinkPolicy {
  /** The answer's sources' own URLs. */
  sourceUrls: readonly string[];
  /** Domains links may point to, lower case; a subdomain matches too. */
  allowedDomains: readonly string[];
}

const withoutFragment = (url: URL) => `${url.protocol}//${url.host}${url.pathname}${url.search}`;

export function linkAllowed(href: string, policy: LinkPolicy): boolean {
  let url: URL;
  try {
    url = new URL(href.trim());
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.toLowerCase();
  if (policy.allowedDomains.some((d) => host === d || host.endsWith(`.${d}`))) return true;
  return policy.sourceUrls.some((source) => {
    try {
      return withoutFragment(new URL(source)) === withoutFragment(url);
    } catch {
      return false;
    }
  });
}

// One pass, the earliest construct wins: code (left as it is: nothing in it is clickable), an
// image, an inline link, an autolink, an HTML anchor or image, a bare address.
const CONSTRUCTS = new RegExp(
  [
    /(?<code>```[\s\S]*?```|`[^`\n]+`)/.source,
    /(?<image>!\[(?<alt>[^\]\n]*)\]\([^)\n]*\)|!\[(?<refAlt>[^\]\n]*)\]\[[^\]\n]*\])/.source,
    /(?<link>\[(?<text>[^\]\n]*)\]\(\s*<?(?<href>[^)\s>]*)>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\))/.source,
    /(?<auto><(?<autoHref>(?:https?|ftp|mailto):[^>\s]*)>)/.source,
    /(?<anchor><a\b[^>]*?\bhref\s*=\s*["']?(?<anchorHref>[^"'\s>]+)["']?[^>]*>(?<anchorText>[\s\S]*?)<\/a\s*>)/.source,
    /(?<img><img\b[^>]*>)/.source,
    /(?<bare>(?:https?:\/\/|www\.)[^\s<>()[\]`"']*[^\s<>()[\]`"'.,;:!?])/.source,
  ].join('|'),
  'gi',
);
// A reference definition ([ref]: https://…) is a link target of its own.
const DEFINITION = /^ {0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]+)>?.*$/gm;

/** The text with every link that the policy does not allow made plain. */
export function keepAllowedLinks(text: string, policy: LinkPolicy): string {
  const defined = text.replace(DEFINITION, (whole, href: string) => (linkAllowed(href, policy) ? whole : ''));
  return defined.replace(CONSTRUCTS, (whole, ...rest) => {
    const g = rest.at(-1) as Record<string, string | undefined>;
    if (g.code) return whole;
    if (g.image !== undefined) return g.alt ?? g.refAlt ?? '';
    if (g.img !== undefined) return /\balt\s*=\s*["']([^"']*)["']/i.exec(whole)?.[1] ?? '';
    if (g.link !== undefined) return linkAllowed(g.href ?? '', policy) ? whole : (g.text ?? '');
    if (g.auto !== undefined) return linkAllowed(g.autoHref ?? '', policy) ? whole : `\`${g.autoHref}\``;
    if (g.anchor !== undefined) return linkAllowed(g.anchorHref ?? '', policy) ? whole : (g.anchorText ?? '');
    const bare = g.bare ?? whole;
    return linkAllowed(bare.startsWith('www.') ? `https://${bare}` : bare, policy) ? whole : `\`${bare}\``;
  });
}

// The end of streamed text that may still become a link: an open bracket construct, an open
// angle bracket, a reference definition line, an address or the start of one (and, below, an
// open code span: what it holds is left alone once it closes).
const OPEN_TAIL = [
  /!?\[[^\]\n]*$/,
  /!?\[[^\]\n]*\]$/,
  /!?\[[^\]\n]*\][([][^)\]\n]*$/,
  /^ {0,3}\[[^\]\n]*\]:[^\n]*$/m,
  /<[^>\n]*$/,
  /<a\b(?:(?!<\/a\s*>)[\s\S])*$/i,
  /(?:https?:\/\/|www\.)[^\s<>()[\]`"']*$/i,
  /(?<![A-Za-z0-9])(?:h|ht|htt|https?|https?:\/{0,2}|w{1,3})$/i,
];
/** Past this many held characters the text is let through: it is prose, not a link in the making. */
const MAX_HELD = 2000;

/**
 * `keepAllowedLinks` over a stream: each piece is let through once nothing at its end can still
 * turn into a link, so a link split across deltas is judged whole. `end` releases the rest.
 */
export function createLinkFilter(policy: LinkPolicy) {
  let held = '';
  return {
    push(delta: string): string {
      held += delta;
      let cut = held.length;
      for (const tail of OPEN_TAIL) {
        const match = tail.exec(held);
        if (match && match.index < cut) cut = match.index;
      }
      const line = held.slice(held.lastIndexOf('\n') + 1);
      if ((line.match(/`/g)?.length ?? 0) % 2 === 1) cut = Math.min(cut, held.lastIndexOf('`'));
      if (held.length - cut > MAX_HELD) cut = held.length;
      const ready = held.slice(0, cut);
      held = held.slice(cut);
      return ready && keepAllowedLinks(ready, policy);
    },
    end(): string {
      const rest = held;
      held = '';
      return rest && keepAllowedLinks(rest, policy);
    },
  };
}
