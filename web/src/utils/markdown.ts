import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import type { LinkPolicy } from '../../../server/src/core/bots/answer-links.ts';

export type { LinkPolicy };

/**
 * Markdown from people, documents and models, rendered safely: raw HTML in the source is shown
 * as text, the result is sanitised (no script, frames, forms, styles or event handlers), links
 * open in a new tab without referrer, and images load only from data: URIs or this origin, so
 * a message cannot run code or phone home with a tracking pixel. A link stays a link only when it
 * points to a cited source's own URL or an allowed domain (ANSWER_LINK_ALLOWED_DOMAINS), as the
 * server already ensures for bot answers (server/src/core/bots/answer-links.ts): here again for
 * what agents and employees type, and for answers stored before that rule.
 */
const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html({ text, block }) {
      return block ? `<p>${escapeHtml(text.trim())}</p>\n` : escapeHtml(text);
    },
  },
});

const FORBID_TAGS = [
  'script',
  'iframe',
  'frame',
  'object',
  'embed',
  'form',
  'input',
  'button',
  'textarea',
  'select',
  'style',
  'link',
  'meta',
  'base',
  'svg',
  'math',
  'video',
  'audio',
  'source',
  'template',
];
const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+$/i;

export function isAllowedImageSource(src: string, origin: string = globalThis.location?.origin ?? ''): boolean {
  const value = src.trim();
  if (SAFE_DATA_IMAGE.test(value)) return true;
  if (value.startsWith('//')) return false;
  if (value.startsWith('/') || value.startsWith('./')) return true;
  try {
    return origin !== '' && new URL(value).origin === origin;
  } catch {
    return false;
  }
}

const ALLOWED_TAGS = new Set([
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'code',
  'del',
  'details',
  'div',
  'em',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'ins',
  'kbd',
  'li',
  'mark',
  'ol',
  'p',
  'pre',
  's',
  'small',
  'span',
  'strong',
  'sub',
  'summary',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'u',
  'ul',
  'input',
]);
const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  a: ['href', 'title'],
  img: ['src', 'alt', 'title', 'class'],
  ol: ['start'],
  td: ['align', 'colspan', 'rowspan'],
  th: ['align', 'colspan', 'rowspan'],
  code: ['class'],
  span: ['class'],
  input: ['type', 'checked', 'disabled'],
};
/** No allowed domains, no sources: every link is shown as its text. */
export const NO_LINKS: LinkPolicy = { sourceUrls: [], allowedDomains: [] };

const withoutFragment = (url: URL) => `${url.protocol}//${url.host}${url.pathname}${url.search}`;

/** The server's rule (answer-links.ts `linkAllowed`): http(s) to an allowed domain or a source's own URL. */
export function isAllowedLink(href: string, policy: LinkPolicy): boolean {
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

let purifier: ReturnType<typeof DOMPurify> | undefined;

function getPurifier() {
  purifier ??= DOMPurify(window);
  return purifier;
}

/**
 * The policy itself, applied after DOMPurify on a parsed tree: an allowlist of tags and
 * attributes, safe link and image URLs. It holds even where a DOM implementation makes DOMPurify
 * lenient, so it is what the tests pin down.
 */
function enforcePolicy(root: ParentNode, links: LinkPolicy) {
  for (const element of [...root.querySelectorAll('*')]) {
    const tag = element.tagName.toLowerCase();
    if (!ALLOWED_TAGS.has(tag) || (tag === 'input' && element.getAttribute('type') !== 'checkbox')) {
      // Unknown or dangerous elements go with their content when it could be code, else keep their text.
      if (FORBID_TAGS.includes(tag) || tag === 'input') element.remove();
      else element.replaceWith(...[...element.childNodes]);
      continue;
    }
    const allowed = ALLOWED_ATTRIBUTES[tag] ?? [];
    for (const name of [...element.attributes].map((a) => a.name)) {
      if (!allowed.includes(name.toLowerCase())) element.removeAttribute(name);
    }
    if (tag === 'input') element.setAttribute('disabled', '');
    if (tag === 'a') {
      if (!isAllowedLink(element.getAttribute('href') ?? '', links)) {
        // Not a link the message may carry: its text stays, the target goes.
        element.replaceWith(...[...element.childNodes]);
        continue;
      }
      element.setAttribute('target', '_blank');
      element.setAttribute('rel', 'noopener noreferrer nofollow');
    }
    if (tag === 'img') {
      const src = element.getAttribute('src') ?? '';
      if (!isAllowedImageSource(src)) {
        // The image is not fetched: no src; its alt text stays readable.
        element.removeAttribute('src');
        element.setAttribute('class', 'md-blocked-image');
        element.setAttribute('alt', element.getAttribute('alt') || '[image]');
      }
    }
  }
}

export function sanitizeHtml(html: string, links: LinkPolicy = NO_LINKS): string {
  const purified = getPurifier().sanitize(html, {
    FORBID_TAGS,
    FORBID_ATTR: ['style', 'srcset', 'formaction', 'background', 'ping'],
    ALLOW_DATA_ATTR: false,
  });
  const template = document.createElement('template');
  template.innerHTML = purified;
  enforcePolicy(template.content, links);
  return template.innerHTML;
}

/**
 * Turns citation markers like "[1]" in the text (not in code or links) into buttons that open the
 * cited passage. Runs on sanitised HTML and creates only elements of its own.
 */
function linkCitations(html: string, known: Set<number>, label: (n: number) => string): string {
  if (!known.size) return html;
  const template = document.createElement('template');
  template.innerHTML = html;
  const walker = document.createTreeWalker(template.content, NodeFilter.SHOW_TEXT);
  const targets: Text[] = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (/\[\d+\]/.test(node.nodeValue ?? '') && !node.parentElement?.closest('code, pre, a'))
      targets.push(node as Text);
  }
  for (const node of targets) {
    const parts = (node.nodeValue ?? '').split(/(\[\d+\])/);
    const fragment = document.createDocumentFragment();
    for (const part of parts) {
      const n = /^\[(\d+)\]$/.exec(part)?.[1];
      if (n && known.has(Number(n))) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'cite';
        button.dataset.cite = n;
        button.textContent = n;
        button.setAttribute('aria-label', label(Number(n)));
        fragment.append(button);
      } else if (part) {
        fragment.append(document.createTextNode(part));
      }
    }
    node.replaceWith(fragment);
  }
  return template.innerHTML;
}

export function renderMarkdown(
  source: string,
  citations?: { indexes: number[]; label: (n: number) => string },
  links: LinkPolicy = NO_LINKS,
): string {
  const safe = sanitizeHtml(marked.parse(source) as string, links);
  return citations ? linkCitations(safe, new Set(citations.indexes), citations.label) : safe;
}
