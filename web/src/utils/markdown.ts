import DOMPurify from 'dompurify';
import { Marked } from 'marked';

/**
 * Markdown from people, documents and models, rendered safely: raw HTML in the source is shown
 * as text, the result is sanitised (no script, frames, forms, styles or event handlers), links
 * open in a new tab without referrer, and images load only from data: URIs or this origin, so
 * a message cannot run code or phone home with a tracking pixel.
 */
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

const FORBID_TAGS = ['script', 'iframe', 'frame', 'object', 'embed', 'form', 'input', 'button', 'textarea', 'select', 'style', 'link', 'meta', 'base', 'svg', 'math', 'video', 'audio', 'source', 'template'];
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

let purifier: ReturnType<typeof DOMPurify> | undefined;

function getPurifier() {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook('afterSanitizeAttributes', (node) => {
    const element = node as Element;
    if (element.tagName === 'A') {
      element.setAttribute('target', '_blank');
      element.setAttribute('rel', 'noopener noreferrer nofollow');
    }
    if (element.tagName === 'IMG') {
      const src = element.getAttribute('src') ?? '';
      if (!isAllowedImageSource(src)) {
        // The image is not fetched: no src, its alt text stays readable.
        element.removeAttribute('src');
        element.setAttribute('class', 'md-blocked-image');
        element.setAttribute('alt', element.getAttribute('alt') || '[image]');
      }
      element.removeAttribute('srcset');
    }
  });
  return purifier;
}

export function sanitizeHtml(html: string): string {
  return getPurifier().sanitize(html, {
    FORBID_TAGS,
    FORBID_ATTR: ['style', 'srcset', 'formaction', 'background', 'ping'],
    ALLOW_DATA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|data:image\/(?:png|gif|jpe?g|webp);|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  });
}

export function renderMarkdown(source: string): string {
  return sanitizeHtml(marked.parse(source) as string);
}
