import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { screenshot } from './browser.ts';

/** The sizes every changed page is looked at: a phone and a laptop. */
export const SIZES = [
  { tag: 'phone', width: 390, height: 844 },
  { tag: 'desktop', width: 1440, height: 900 },
] as const;
export const LOCALES = ['en', 'zh-CN'] as const;

/**
 * Switches the interface language with the header's switch (the page, and any open dialog, stay);
 * a page without the switch (not found) is reloaded with the choice stored as the switch stores it.
 */
export async function setLanguage(page: Page, locale: (typeof LOCALES)[number]) {
  // On a phone the switch is in the closed menu: switch at the laptop size, the caller sizes afterwards.
  await page.setViewportSize({ width: 1440, height: 900 });
  const languageSwitch = page.locator('[data-testid="language-switch"]');
  if (await languageSwitch.count()) await languageSwitch.selectOption(locale, { force: true });
  else {
    await page.evaluate(`localStorage.setItem('enclave.locale', '${locale}')`);
    await page.reload();
  }
  await expect.poll(() => page.locator('html').getAttribute('lang')).toBe(locale);
}

/**
 * Screenshots of the page as it is, at both sizes in both languages, with `focus` (what the picture
 * is about) scrolled into view; leaves it in English at the phone size.
 */
export async function shots(page: Page, name: string, focus?: Locator) {
  for (const locale of LOCALES) {
    await setLanguage(page, locale);
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.waitForTimeout(150);
      await focus?.evaluate((el) => el.scrollIntoView({ block: 'center' }));
      await screenshot(page, `web19-${name}-${size.tag}-${locale}`);
    }
  }
  await setLanguage(page, 'en');
  await page.setViewportSize({ width: 390, height: 844 });
}

// Run in the page (this file is compiled without the DOM types): whether an input passes its own checks,

/** How much wider than the viewport the document is, and the app's main pane (a table's own frame may scroll). */
export const overflow = (page: Page) =>
  page.evaluate<{ document: number; main: number; culprit: string }>(`(() => {
    const main = document.querySelector('.app-main');
    const edge = main ? main.getBoundingClientRect().right : window.innerWidth;
    // The deepest element reaching past the edge: what to fix.
    const past = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > edge + 0.5 && !el.closest('.table-wrap') && el.getClientRects().length);
    const el = past[past.length - 1];
    return {
      document: document.scrollingElement.scrollWidth - window.innerWidth,
      main: main ? main.scrollWidth - main.clientWidth : 0,
      culprit: el ? el.tagName.toLowerCase() + '.' + String(el.className) + ' "' + (el.textContent || '').trim().slice(0, 40) + '"' : '',
    };
  })()`);
