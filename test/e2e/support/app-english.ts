import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

/** The route patterns of web/src/router/index.ts, children of /admin written in full. */
export function routerPatterns(): string[] {
  const source = readFileSync(new URL('../../../web/src/router/index.ts', import.meta.url), 'utf8');
  return [...source.matchAll(/path: '([^']*)'/g)]
    .map(([, path]) => (path!.startsWith('/') ? path! : path ? `/admin/${path}` : '/admin'))
    .filter((path, i, all) => all.indexOf(path) === i);
}

/**
 * The app's own English, as patterns: every dictionary value the Chinese dictionary says
 * differently, with its placeholders as wildcards (a value of a few letters is left out: "k", "{n} s").
 * Loaded at run time: the web app's modules are type-checked under its own configuration.
 */
export async function appEnglish(): Promise<{ key: string; pattern: RegExp }[]> {
  const dir = '../../../web/src/i18n/';
  const [{ en }, { zhCN }] = (await Promise.all([import(`${dir}en.ts`), import(`${dir}zh-CN.ts`)])) as [
    { en: Record<string, string> },
    { zhCN: Record<string, string> },
  ];
  return Object.keys(en)
    .filter((key) => en[key] !== zhCN[key] && en[key]!.replace(/\{\w+\}/g, '').replace(/[^A-Za-z]/g, '').length >= 3)
    .map((key) => ({
      key,
      pattern: new RegExp(
        `^${en[key]!.split(/\{\w+\}/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.+?')}$`,
        's',
      ),
    }));
}

/** Product and format names, and keys, that Chinese text writes in Latin letters too; each language's own name. */
const NAMES = new Set(
  'English Enclave API REST URL SSO PDF Word Excel PowerPoint Markdown HTML CSV FAQ TXT DOCX XLSX PPTX PNG JPEG WebP Enter Shift Ctrl OpenAI CSAT JSON'.split(
    ' ',
  ),
);
/** Addresses, paths, file names (with their extension) and dotted codes (auth.login.succeeded) are data, whatever their letters. */
const NOT_WORDS = /\S+@\S+|https?:\/\/\S+|\S+\.[a-z]{2,4}\b|\/\w+|\b[a-z_]+(?:\.[a-z_]+)+\b/g;

/**
 * Text of the app's English dictionary on the page: each shown element's own text (and an
 * option's, shown when its list opens), its placeholder, aria-label, title and alt.
 */
export async function englishOnPage(page: Page, english: { key: string; pattern: RegExp }[]): Promise<string[]> {
  const texts = await page.evaluate<{ text: string; where: string }[]>(`(() => {
    const out = [];
    const where = (el) => el.tagName.toLowerCase() + (el.getAttribute('data-testid') ? '[data-testid=' + el.getAttribute('data-testid') + ']' : el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    for (const el of document.querySelectorAll('body *')) {
      if (el.tagName === 'SCRIPT' || el.tagName === 'STYLE') continue;
      // What people and the bot wrote, and codes (a slug, a token's prefix), are not the app's words.
      // A record shown as stored (the audit log's details, as its CSV has them) is data too.
      if (el.closest('.md-body, code, [data-recorded]')) continue;
      const shown = el.tagName === 'OPTION' || (el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden');
      if (!shown) continue;
      const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').replace(/\\s+/g, ' ').trim();
      if (own) out.push({ text: own, where: where(el) });
      for (const attr of ['placeholder', 'aria-label', 'title', 'alt']) {
        const value = el.getAttribute(attr);
        if (value && value.trim()) out.push({ text: value.trim(), where: where(el) + '@' + attr });
      }
    }
    return out;
  })()`);
  return texts.flatMap(({ text, where }) => {
    const found = english.find((e) => e.pattern.test(text));
    if (found) return [`"${text}" (${found.key}) in ${where}`];
    const words = text.replace(NOT_WORDS, ' ').match(/[A-Za-z]{3,}/g) ?? [];
    const left = words.filter((w) => !NAMES.has(w));
    return left.length ? [`"${text}" (English: ${left.join(' ')}) in ${where}`] : [];
  });
}
