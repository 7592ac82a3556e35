import type { Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../../support/app.ts';
import { newUser, TEST_PASSWORD, type TestUser } from '../../support/fixtures.ts';
import { request } from '../../support/http.ts';
import { launchBrowser, type E2eBrowser } from './browser.ts';
import { ensureWebBuild } from './web-build.ts';

export { TEST_PASSWORD };

export interface E2eWorld {
  app: TestApp;
  browser: E2eBrowser;
  /** A real user row of the given role (password TEST_PASSWORD). */
  user(role: 'employee' | 'agent' | 'admin', name?: string): Promise<TestUser & { name: string }>;
  /** An API call as that user (Bearer token), for arranging what the scenario does not click through. */
  api(user: TestUser, method: string, path: string, body?: unknown): ReturnType<typeof request>;
  close(): Promise<void>;
}

/** A real server (PGlite, in-process jobs) serving the built web app, and a headless Chromium. */
export async function startWorld(env: Record<string, string> = {}): Promise<E2eWorld> {
  await ensureWebBuild();
  const app = await startTestApp('pglite', { env: { ASSIGNMENT_MODE: 'manual', ...env } });
  const browser = await launchBrowser();
  let n = 0;
  return {
    app,
    browser,
    async user(role, name) {
      n += 1;
      const display = name ?? `${role[0]!.toUpperCase()}${role.slice(1)} ${n}`;
      const user = await newUser(app, { role, name: display, email: `${role}${n}-${Date.now()}@example.test` });
      return { ...user, name: display };
    },
    api: (user, method, path, body) =>
      request(app.url, method, path, { token: user.token, ...(body !== undefined ? { body } : {}) }),
    async close() {
      await browser.close().catch(() => {});
      await app.close();
    },
  };
}

/** Signs in through the login form and waits for the landing page. */
export async function signIn(
  page: Page,
  baseUrl: string,
  user: { email: string },
  password = TEST_PASSWORD,
): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name="email"]').fill(user.email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form button[type="submit"]').click();
  await page.waitForURL((url) => !url.pathname.startsWith('/login'));
}
