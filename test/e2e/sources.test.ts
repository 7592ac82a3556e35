import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/wait.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';

/*
 * A synced server folder as an admin sees it: the source with its last and next refresh and what
 * changed, "Refresh now" with live progress, a retired file with its reason, a document's versions.
 */
describe('sources and versions in a real browser', () => {
  let world: E2eWorld;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-e2e-folder-'));
    world = await startWorld({ SYNC_ALLOWED_ROOTS: dir });
  }, 180_000);
  afterAll(async () => {
    await world?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows what a refresh changed, refreshes on request, and lists a document’s versions', async () => {
    const admin = await world.user('admin', 'Sofia Sync');
    const folder = path.join(dir, 'handbook');
    await mkdir(folder);
    await writeFile(path.join(folder, 'leave.md'), '# Leave\n\nAnnual leave is 25 days.');
    await writeFile(path.join(folder, 'vpn.txt'), 'The VPN gateway is vpn.example.test.');
    const collection = (await world.api(admin, 'POST', '/api/collections', { name: 'Handbook' })).body.collection.id;
    const added = await world.api(admin, 'POST', `/api/collections/${collection}/sources`, {
      kind: 'folder',
      path: folder,
      schedule: 'daily',
    });
    const sourceId = added.body.source.id;
    await until(async () => {
      const s = (await world.api(admin, 'GET', `/api/sources/${sourceId}`)).body.source;
      return s.lastRun && !s.running ? s : undefined;
    }, 'the first sync');

    await writeFile(path.join(folder, 'leave.md'), '# Leave\n\nAnnual leave is 30 days from 2027 on.');
    await unlink(path.join(folder, 'vpn.txt'));
    await writeFile(path.join(folder, 'bikes.md'), 'Bicycles park in the courtyard.');

    const context = await world.browser.newContext();
    const page = await context.newPage();
    await signIn(page, world.app.url, admin);
    await page.goto(`${world.app.url}/admin/knowledge/${collection}`);
    const source = page.getByTestId('source');
    await expect.poll(() => source.innerText()).toContain('2 added');
    await page.getByTestId('source-refresh').click();
    await expect
      .poll(() => page.getByTestId('source-changes').innerText(), { timeout: 20_000 })
      .toContain('1 added · 1 updated · 1 retired');
    const retired = page.getByTestId('document-row').filter({ hasText: 'vpn' });
    await expect.poll(() => retired.innerText()).toContain('the file was removed from the folder');
    expect(await page.getByTestId('source-next').innerText()).not.toBe('');
    await screenshot(page, 'sources-desktop-en');

    await page.getByTestId('document-row').filter({ hasText: 'leave' }).getByTestId('document-versions-open').click();
    const versions = page.getByTestId('document-version');
    await expect.poll(() => versions.count()).toBe(2);
    expect(await versions.first().innerText()).toContain('Version 2');
    expect(await versions.first().innerText()).toContain('by Sofia Sync');
    await screenshot(page, 'sources-versions-desktop-en');
    await context.close();

    const phone = await world.browser.newContext({ locale: 'zh-CN', mobile: true });
    const zh = await phone.newPage();
    await signIn(zh, world.app.url, admin);
    await zh.goto(`${world.app.url}/admin/knowledge/${collection}`);
    await expect.poll(() => zh.getByTestId('source').innerText()).toContain('新增 1 · 更新 1 · 下线 1');
    expect(await zh.evaluate<number>('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);
    await zh.getByTestId('source').scrollIntoViewIfNeeded();
    await screenshot(zh, 'sources-phone-zh');
    await phone.close();
  });
});
