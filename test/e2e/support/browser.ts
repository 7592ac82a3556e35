import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-artifacts/screenshots/', import.meta.url));

export interface E2eBrowser {
  /** A fresh, isolated browser profile (its own cookies): one per person in a scenario. */
  newContext(options?: { locale?: string; mobile?: boolean }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Debian's Chromium, headless, with a fresh temporary profile directory that is removed on close. */
export async function launchBrowser(): Promise<E2eBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests drive Chromium at ${CHROMIUM}, which is missing: apt-get install chromium fonts-noto-cjk, or set CHROMIUM_PATH.`,
    );
  }
  const profile = await mkdtemp(path.join(os.tmpdir(), 'enclave-chromium-'));
  // Chromium writes its crash reports and caches under the profile; `--user-data-dir` may not be
  // passed in args (playwright-core refuses it), so a plain launch gets HOME-independent dirs via env.
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, `--disk-cache-dir=${path.join(profile, 'cache')}`],
    env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: profile, XDG_CACHE_HOME: profile },
  });
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    newContext: (options = {}) =>
      browser.newContext({
        locale: options.locale ?? 'en-US',
        viewport: options.mobile ? { width: 390, height: 780 } : { width: 1280, height: 800 },
        ...(options.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
      }),
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}
