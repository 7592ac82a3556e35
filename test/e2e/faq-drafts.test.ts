import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';

/*
 * A knowledge gap closed by people: an agent turns a good reply into an FAQ draft from the
 * conversation, an admin reviews it on the gaps page (in Chinese, on a phone) and approves it.
 */
describe('FAQ drafts from agent replies in a real browser', () => {
  let world: E2eWorld;
  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);
  afterAll(async () => world?.close());

  it('an agent suggests a reply as an FAQ entry; an admin edits and approves it, and it is searchable', async () => {
    const admin = await world.user('admin', 'Ada Admin');
    const agent = await world.user('agent', 'Aggie Agent');
    const employee = await world.user('employee', 'Emil Employee');
    const collection = await world.api(admin, 'POST', '/api/collections', { name: 'Facilities' });
    const c = await world.api(employee, 'POST', '/api/conversations', { kind: 'support' });
    const id: string = c.body.conversation.id;
    await world.api(employee, 'POST', `/api/conversations/${id}/messages`, {
      body: 'How do I book the rooftop terrace?',
    });
    await world.api(agent, 'POST', `/api/conversations/${id}/claim`);
    await world.api(agent, 'POST', `/api/conversations/${id}/messages`, {
      body: 'Write to facilities with the date: the terrace holds forty people.',
    });

    const context = await world.browser.newContext();
    const page = await context.newPage();
    await signIn(page, world.app.url, agent);
    await page.goto(`${world.app.url}/agent/c/${id}`);
    await page.getByTestId('suggest-faq').click();
    const dialog = page.getByRole('dialog', { name: 'Suggest this reply as an FAQ entry' });
    await expect.poll(() => dialog.getByLabel('Question').inputValue()).toBe('How do I book the rooftop terrace?');
    expect(await dialog.getByLabel('Answer').inputValue()).toBe(
      'Write to facilities with the date: the terrace holds forty people.',
    );
    await screenshot(page, 'faq-draft-suggest-desktop-en');
    await dialog.getByRole('button', { name: 'Send for review' }).click();
    await page.getByText('Sent for review').waitFor();
    await context.close();

    const phone = await world.browser.newContext({ locale: 'zh-CN', mobile: true });
    const zh = await phone.newPage();
    await signIn(zh, world.app.url, admin);
    await zh.goto(`${world.app.url}/admin/gaps`);
    await zh.getByRole('tab', { name: /常见问题草稿/ }).click();
    const drafts = zh.getByTestId('faq-drafts');
    await expect.poll(() => drafts.innerText()).toContain('How do I book the rooftop terrace?');
    expect(await drafts.innerText()).toContain('Aggie Agent');
    expect(await zh.evaluate<number>('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);
    await screenshot(zh, 'faq-drafts-phone-zh');
    await drafts.getByRole('button', { name: '审核常见问题草稿' }).click();
    const review = zh.getByRole('dialog', { name: '审核常见问题草稿' });
    await review.getByLabel('答案').fill('Write to facilities with the date. The terrace holds 40 people.');
    await screenshot(zh, 'faq-draft-review-phone-zh');
    await review.getByRole('button', { name: '批准并建立索引' }).click();
    await drafts.getByText('没有待审核的常见问题草稿。').waitFor();
    await phone.close();

    const docs = await world.api(admin, 'GET', `/api/collections/${collection.body.collection.id}/documents`);
    expect(docs.body.items.map((d: { title: string }) => d.title)).toEqual(['How do I book the rooftop terrace?']);
    await expect
      .poll(async () => {
        const res = await world.api(employee, 'POST', '/api/search', { query: 'rooftop terrace booking' });
        return res.body.hits.map((h: { text: string }) => h.text).join('\n');
      })
      .toContain('40 people');
  });
});
