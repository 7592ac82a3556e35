import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyPng } from '../support/images.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';

/*
 * What admins set and read back: the organisation's name and logo, the audit log (names instead of
 * ids, a person picker, an action filter, a CSV export) and analytics over a time axis.
 */
describe('the organisation, the audit log and analytics in a real browser', () => {
  let world: E2eWorld;
  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);
  afterAll(async () => world?.close());

  it('shows who did what to what by name, filters by person and action, and exports what it shows', async () => {
    const admin = await world.user('admin', 'Audrey Auditor');
    const other = await world.user('admin', 'Otto Other');
    await world.api(other, 'POST', '/api/groups', { name: 'Not by Audrey' });
    const group = await world.api(admin, 'POST', '/api/groups', { name: 'Night shift' });
    await world.api(admin, 'DELETE', `/api/groups/${group.body.group.id}`);

    const context = await world.browser.newContext();
    const page = await context.newPage();
    await signIn(page, world.app.url, admin);
    await page.goto(`${world.app.url}/admin/audit`);
    const rows = page.locator('[data-testid="audit-table"] tbody tr');
    const deleted = rows.filter({ hasText: 'Deleted a group' }).first();
    await expect.poll(() => deleted.innerText()).toContain('Night shift');
    const text = await deleted.innerText();
    expect(text).toContain('Audrey Auditor');
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);

    // The person picker and the action filter: only Audrey's group deletions remain.
    await page.getByRole('combobox', { name: 'Person' }).fill('Audrey');
    await page.getByRole('option', { name: /Audrey Auditor/ }).click();
    await page.getByTestId('audit-action').selectOption({ label: 'Created a group' });
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await expect.poll(async () => (await rows.allInnerTexts()).join('\n')).toContain('Night shift');
    const filtered = await rows.allInnerTexts();
    expect(filtered.every((r) => r.includes('Audrey Auditor') && r.includes('Created a group'))).toBe(true);
    expect(filtered.join('\n')).not.toContain('Not by Audrey');
    await screenshot(page, 'audit-desktop-en');

    // The export is what the filter shows, as a spreadsheet opens it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^enclave-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await new Response(await download.createReadStream()).text();
    const lines = csv
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toMatch(/^id,at,actor_name,actor_email,action,/);
    expect(lines.slice(1)).toHaveLength(filtered.length);
    expect(lines.slice(1).every((l) => l.includes(',Audrey Auditor,') && l.includes(',group.created,'))).toBe(true);
    await context.close();

    // In Chinese, on a phone: the same page, translated, no wider than the screen.
    const phone = await world.browser.newContext({ locale: 'zh-CN', mobile: true });
    const zh = await phone.newPage();
    await signIn(zh, world.app.url, admin);
    await zh.goto(`${world.app.url}/admin/audit`);
    await expect.poll(() => zh.locator('[data-testid="audit-table"] tbody').innerText()).toContain('删除群组');
    expect(await zh.evaluate<number>('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(zh, 'audit-phone-zh');
    // The filters are folded on a phone, and open on a tap.
    await zh.getByText('筛选条件').click();
    await zh.getByRole('combobox', { name: '人员' }).waitFor();
    await screenshot(zh, 'audit-phone-zh-filters');
    await phone.close();
  });

  it('draws conversations per day on a time axis: one busy day is one day among the period, not one giant bar', async () => {
    const admin = await world.user('admin', 'Ana Lytics');
    const employee = await world.user('employee', 'Emma Ployee');
    for (let i = 0; i < 3; i += 1) await world.api(employee, 'POST', '/api/conversations', { kind: 'support' });

    for (const [locale, mobile, name] of [
      ['en-US', false, 'analytics-desktop-en'],
      ['zh-CN', true, 'analytics-phone-zh'],
    ] as const) {
      const context = await world.browser.newContext({ locale, mobile });
      const page = await context.newPage();
      await signIn(page, world.app.url, admin);
      await page.goto(`${world.app.url}/admin/analytics`);
      const days = page.locator('[data-testid="per-day-table"] tbody tr');
      await expect.poll(() => days.count()).toBe(31);
      const busyDays = await page.evaluate<number>(
        `[...document.querySelectorAll('[data-testid="per-day-table"] tbody tr')].filter((tr) => [...tr.querySelectorAll('td')].some((td) => td.textContent.trim() !== '0')).length`,
      );
      expect(busyDays).toBe(1);
      await page.locator('[data-testid="admin-analytics"] canvas').first().waitFor();
      expect(await page.evaluate<number>('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(
        mobile ? 390 : 1280,
      );
      await screenshot(page, name);
      await page.getByLabel(locale === 'zh-CN' ? '统计周期' : 'Period').selectOption('7');
      await expect.poll(() => days.count()).toBe(8);
      await context.close();
    }
  });

  it("puts the brand: the organisation's name and logo an admin chose on the sign-in page and in the header", async () => {
    const admin = await world.user('admin', 'Olga Org');
    const context = await world.browser.newContext();
    const page = await context.newPage();
    await signIn(page, world.app.url, admin);
    await page.goto(`${world.app.url}/admin/organisation`);
    await page.getByLabel('Organisation name').fill('Northwind Bank');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('brand').innerText()).toBe('Northwind Bank');
    // A wrong file is refused before it is sent; a PNG is taken and shown at once.
    const dir = os.tmpdir();
    const svg = path.join(dir, `logo-${Date.now()}.svg`);
    const png = path.join(dir, `logo-${Date.now()}.png`);
    await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(png, tinyPng({ width: 96, height: 32, rgb: [232, 185, 49] }));
    await page.getByTestId('logo-input').setInputFiles(svg);
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('PNG, JPEG or WebP');
    await page.getByTestId('logo-input').setInputFiles(png);
    await page.getByTestId('logo-preview').waitFor();
    await page.locator('[data-testid="brand"] img').waitFor();
    await screenshot(page, 'organisation-desktop-en');
    await context.close();

    for (const [locale, mobile, name] of [
      ['en-US', false, 'login-desktop-en'],
      ['zh-CN', true, 'login-phone-zh'],
    ] as const) {
      const visitor = await world.browser.newContext({ locale, mobile });
      const login = await visitor.newPage();
      await login.goto(`${world.app.url}/login`);
      const identity = login.getByTestId('login-identity');
      await expect.poll(() => identity.innerText()).toContain('Northwind Bank');
      await identity.locator('img').waitFor();
      expect(await identity.innerText()).toContain('Enclave');
      await screenshot(login, name);
      await visitor.close();
    }
  });

  it("asks before deleting in a dialog of its own, in the reader's language, and cancelling keeps the document", async () => {
    const admin = await world.user('admin', 'Della Delete');
    const collection = await world.api(admin, 'POST', '/api/collections', { name: 'Handbook' });
    const collectionId: string = collection.body.collection.id;
    await world.api(admin, 'POST', `/api/collections/${collectionId}/documents`, {
      title: 'Leave policy',
      text: 'Twenty days of paid leave a year.',
    });
    const context = await world.browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    // The browser's own confirm would block here: none may appear.
    page.on(
      'dialog',
      (dialog) => void dialog.dismiss().then(() => expect.fail(`a browser dialog: ${dialog.message()}`)),
    );
    await signIn(page, world.app.url, admin);
    await page.goto(`${world.app.url}/admin/knowledge/${collectionId}`);
    const rows = page.getByTestId('document-row');
    await expect.poll(() => rows.count()).toBe(1);
    await rows.first().getByRole('button', { name: '删除' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.getByTestId('confirm-message').innerText()).toContain('Leave policy');
    await screenshot(page, 'confirm-delete-zh');
    await dialog.getByRole('button', { name: '取消' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await rows.count()).toBe(1);
    await rows.first().getByRole('button', { name: '删除' }).click();
    await page.getByTestId('confirm-action').click();
    await expect.poll(() => rows.count()).toBe(0);
    await context.close();
  });
});
