import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from '../knowledge/helpers.ts';
import { newGroup, newUser } from '../support/fixtures.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';

/*
 * The admin pages as an admin meets them: documents named as uploaded with their type, empty lists
 * that say what to do next, and who may read changed only after seeing who gains and loses access.
 */
describe('the admin pages: documents, empty states and who may read', () => {
  let world: E2eWorld;
  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);
  afterAll(async () => world?.close());

  /** A page of its own at a size, in a language (stored as the language switch stores it). */
  async function pageFor(user: { email: string }, locale: 'en' | 'zh-CN', mobile = false): Promise<Page> {
    const context = await world.browser.newContext({ locale: locale === 'en' ? 'en-US' : 'zh-CN', mobile });
    const page = await context.newPage();
    await signIn(page, world.app.url, user);
    return page;
  }

  // First in this file: the server has no groups, collections, bots or tokens yet.
  it('says what to do next on every empty list, with the button that does it', async () => {
    const admin = await world.user('admin', 'Emil Empty');
    const page = await pageFor(admin, 'en');
    const empty = page.getByTestId('empty-state');

    await page.goto(`${world.app.url}/admin/groups`);
    await expect.poll(() => empty.innerText()).toContain('No groups yet');
    await empty.getByRole('button', { name: 'Add a group' }).click();
    expect(await page.evaluate<string>('document.activeElement?.closest("label")?.textContent ?? ""')).toContain(
      'Group name',
    );

    await page.goto(`${world.app.url}/admin/knowledge`);
    await expect.poll(() => empty.innerText()).toContain('No collections yet');
    await empty.getByRole('button', { name: 'Create a collection' }).click();
    await page.getByTestId('collection-name').fill('Travel');
    await page.getByTestId('collection-name').press('Enter');
    // a new collection: the three ways to fill it, each ready to use
    await expect.poll(() => empty.innerText()).toContain('No documents yet');
    expect(await empty.innerText()).toContain('Upload a file, paste text or import a URL');
    await empty.getByRole('button', { name: 'Paste text' }).click();
    expect(await page.evaluate<string>('document.activeElement?.closest("label")?.textContent ?? ""')).toContain(
      'Title',
    );
    await screenshot(page, 'empty-documents-desktop-en');

    await page.goto(`${world.app.url}/admin/bots`);
    await empty.getByRole('button', { name: 'Create a bot' }).click();
    await page.getByRole('dialog').getByLabel('Name', { exact: true }).waitFor();
    await page.keyboard.press('Escape');

    await page.goto(`${world.app.url}/admin/search`);
    await expect.poll(() => empty.innerText()).toContain('See what the assistants would find');
    await page.getByTestId('search-query').fill('zebra crossing quarterly');
    await page.getByTestId('search-query').press('Enter');
    await expect.poll(() => empty.innerText()).toContain('Nothing found');
    await empty.getByRole('link', { name: 'Open the knowledge base' }).waitFor();

    await page.goto(`${world.app.url}/admin/gaps`);
    await expect.poll(() => empty.innerText()).toContain('No knowledge gaps found');

    await page.goto(`${world.app.url}/tokens`);
    await expect.poll(() => empty.innerText()).toContain('No API tokens yet');
    await page.context().close();

    // The agent's queue and the employee's chat list, on a phone in Chinese.
    const agent = await world.user('agent', 'Aki Idle');
    const agentPage = await pageFor(agent, 'zh-CN', true);
    await agentPage.goto(`${world.app.url}/agent`);
    await expect.poll(() => agentPage.getByTestId('empty-state').innerText()).toContain('新的请求会实时出现在这里');
    await screenshot(agentPage, 'empty-queue-phone-zh');
    await agentPage.context().close();

    const employee = await world.user('employee', 'Enzo New');
    const chatPage = await pageFor(employee, 'zh-CN', true);
    await chatPage.goto(`${world.app.url}/`);
    const chats = chatPage.getByTestId('empty-state').first();
    await expect.poll(() => chats.innerText()).toContain('还没有');
    await chats.getByRole('button', { name: '开始聊天' }).click();
    await chatPage.getByRole('dialog').waitFor();
    await screenshot(chatPage, 'empty-chats-dialog-phone-zh');
    await chatPage.context().close();

    for (const [locale, mobile, name] of [
      ['en', true, 'empty-groups-phone-en'],
      ['zh-CN', false, 'empty-knowledge-desktop-zh'],
    ] as const) {
      const shot = await pageFor(admin, locale, mobile);
      await shot.goto(`${world.app.url}/admin/${name.includes('groups') ? 'groups' : 'knowledge'}`);
      await shot.getByTestId('empty-state').first().waitFor();
      await screenshot(shot, name);
      await shot.context().close();
    }
  }, 120_000);

  it('names each document as uploaded, with its type and its source in the reader’s language', async () => {
    const admin = await world.user('admin', 'Doris Docs');
    const collection = (await world.api(admin, 'POST', '/api/collections', { name: 'Onboarding' })).body.collection;
    const uploaded = await upload(
      world.app,
      admin.token,
      collection.id,
      'first-week-guide.md',
      Buffer.from('# First week\n\nCollect your badge at the front desk on Monday.\n'),
      'text/markdown',
    );
    expect(uploaded.status).toBe(202);
    const sheet = await upload(
      world.app,
      admin.token,
      collection.id,
      'desk-plan.csv',
      Buffer.from('desk,name\nA1,Ana\nA2,Ben\n'),
      'text/csv',
    );
    expect(sheet.status).toBe(202);
    await world.api(admin, 'POST', `/api/collections/${collection.id}/documents`, {
      title: 'Lunch hours',
      text: 'The canteen is open from noon to two.',
    });

    const page = await pageFor(admin, 'en');
    await page.goto(`${world.app.url}/admin/knowledge/${collection.id}`);
    const row = (name: string) => page.getByTestId('document-row').filter({ hasText: name });
    await expect.poll(() => row('first-week-guide.md').count()).toBe(1);
    expect(await row('first-week-guide.md').getByTestId('document-name').innerText()).toBe('first-week-guide.md');
    expect(await row('first-week-guide.md').getByTestId('document-type').getAttribute('aria-label')).toBe('MD file');
    expect(await row('first-week-guide.md').getByTestId('document-source').innerText()).toMatch(/^Uploaded file · \d/);
    expect(await row('desk-plan.csv').getByTestId('document-type').getAttribute('aria-label')).toBe('CSV file');
    expect(await row('Lunch hours').getByTestId('document-source').innerText()).toBe('Pasted text');
    expect(await page.getByTestId('document-table').innerText()).not.toMatch(/\bupload\b/);
    await screenshot(page, 'documents-desktop-en');
    await page.context().close();

    const zh = await pageFor(admin, 'zh-CN', true);
    await zh.goto(`${world.app.url}/admin/knowledge/${collection.id}`);
    const zhRow = zh.getByTestId('document-row').filter({ hasText: 'first-week-guide.md' });
    await expect.poll(() => zhRow.getByTestId('document-source').innerText()).toMatch(/^上传的文件 · /);
    expect(await zhRow.getByTestId('document-type').getAttribute('aria-label')).toBe('MD 文件');
    await zhRow.scrollIntoViewIfNeeded();
    await screenshot(zh, 'documents-phone-zh');
    // dates as Chinese readers write them
    await zh.setViewportSize({ width: 1440, height: 900 });
    await expect.poll(() => zhRow.innerText()).toMatch(/\d{4}年\d{1,2}月\d{1,2}日/);
    await screenshot(zh, 'documents-desktop-zh');
    await zh.context().close();
  }, 90_000);

  it('asks before who may read changes, naming how many people lose and gain access', async () => {
    const admin = await world.user('admin', 'Reed Readers');
    const finance = await newGroup(world.app, 'Finance team');
    const legal = await newGroup(world.app, 'Legal team');
    for (let i = 0; i < 3; i += 1) await newUser(world.app, { groups: [finance] });
    await newUser(world.app, { groups: [legal] });
    const collection = (
      await world.api(admin, 'POST', '/api/collections', { name: 'Budgets', readers: 'groups', groups: [finance] })
    ).body.collection;
    const doc = (
      await world.api(admin, 'POST', `/api/collections/${collection.id}/documents`, {
        title: 'Budget 2027',
        text: 'The budget for 2027 grows by four percent.',
      })
    ).body.document;
    const stored = async () => (await world.api(admin, 'GET', `/api/collections/${collection.id}`)).body.collection;

    const page = await pageFor(admin, 'en');
    await page.goto(`${world.app.url}/admin/knowledge/${collection.id}`);
    const box = page.locator('fieldset.readers');
    const confirm = page.getByRole('dialog');

    // unticking Finance: its three members would lose it; cancelled, nothing changes
    await box.getByLabel('Finance team', { exact: true }).click();
    await expect.poll(() => confirm.innerText()).toContain('3 people will lose access.');
    await screenshot(page, 'readers-confirm-desktop-en');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => box.getByLabel('Finance team', { exact: true }).isChecked()).toBe(true);
    expect((await stored()).groups.map((g: { id: string }) => g.id)).toEqual([finance]);

    // ticking Legal: one person gains it; confirmed, the server holds both
    await box.getByLabel('Legal team', { exact: true }).click();
    await expect.poll(() => confirm.innerText()).toContain('1 person will gain access.');
    await page.getByTestId('confirm-action').click();
    await expect
      .poll(async () => (await stored()).groups.map((g: { id: string }) => g.id).sort())
      .toEqual([finance, legal].sort());

    // the document narrowed to Legal: the three Finance members lose it
    await page
      .getByTestId('document-row')
      .filter({ hasText: 'Budget 2027' })
      .getByRole('button', {
        name: 'Who may read',
      })
      .click();
    const narrow = page.getByTestId('document-readers');
    await narrow.getByLabel('Only members of these groups (among them)').check();
    await narrow.getByLabel('Legal team', { exact: true }).check();
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => page.getByTestId('confirm-message').innerText())
      .toBe('3 people will lose access. Admins may always read it.');
    await page.getByTestId('confirm-action').click();
    await expect
      .poll(async () => (await world.api(admin, 'GET', `/api/documents/${doc.id}`)).body.document.groups)
      .toEqual([{ id: legal, name: 'Legal team' }]);
    await page.context().close();

    // in Chinese, on a phone
    const zh = await pageFor(admin, 'zh-CN', true);
    await zh.goto(`${world.app.url}/admin/knowledge/${collection.id}`);
    await zh.locator('fieldset.readers').getByLabel('Legal team', { exact: true }).click();
    await expect
      .poll(() => zh.getByTestId('confirm-message').innerText())
      .toBe('1 人将失去访问权限。管理员始终可以阅读。');
    await screenshot(zh, 'readers-confirm-phone-zh');
    await zh.getByRole('dialog').getByRole('button', { name: '取消' }).click();
    await zh.context().close();
  }, 90_000);
});
