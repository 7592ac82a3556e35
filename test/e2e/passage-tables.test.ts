import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../knowledge/fixtures.ts';
import { settled, upload } from '../knowledge/helpers.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';

/** A cited table, as an employee opens it: a real table on a phone and on a desktop, in English and Chinese. */
describe('the web app, a cited table', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it('opens the citation of an answer from a PDF table as a table, on its page', async () => {
    const admin = await world.user('admin', 'Kim Admin');
    const employee = await world.user('employee', 'Eva Employee');
    const collection = await world.api(admin, 'POST', '/api/collections', { name: 'Facilities' });
    const collectionId: string = collection.body.collection.id;
    const pdf = makePdf([
      ['Facilities guide', 'The cafeteria serves lunch from noon until two.'],
      [
        'Parking fees',
        ['Garage', 'Hourly fee', 'Day ticket'],
        ['Garage A', '2 EUR', '12 EUR'],
        ['Garage B', '3 EUR', '15 EUR'],
        ['Garage C', '1 EUR', '8 EUR'],
      ],
    ]);
    const res = await upload(world.app, admin.token, collectionId, 'facilities.pdf', pdf);
    expect((await settled(world.app, admin.token, res.body.document.id)).status).toBe('ready');
    const bot = await world.api(admin, 'POST', '/api/bots', {
      slug: `facilities-${Date.now().toString(36)}`,
      name: 'Facilities Assistant',
      greeting: 'Ask me about the building.',
      collectionIds: [collectionId],
    });
    expect(bot.status).toBe(201);

    for (const [locale, mobile, name] of [
      ['en-US', false, 'citation-table-desktop-en'],
      ['zh-CN', true, 'citation-table-phone-zh'],
      ['en-US', true, 'citation-table-phone-en'],
      ['zh-CN', false, 'citation-table-desktop-zh'],
    ] as const) {
      const page = await (await world.browser.newContext({ locale, mobile })).newPage();
      await signIn(page, world.app.url, employee);
      await page.locator('[data-testid="new-chat"]').click();
      await page.locator('[data-testid="bot-option"]', { hasText: 'Facilities Assistant' }).click();
      await page.waitForURL(/\/c\//);
      await page.locator('[data-testid="composer-input"]').fill('What is the hourly fee in Garage B?');
      await page.locator('[data-testid="composer-send"]').click();
      const answer = page.locator('[data-testid="message"].bot').last();
      await expect
        .poll(() => answer.locator('[data-testid="citation-chip"]').count(), { timeout: 20_000 })
        .toBeGreaterThan(0);
      await expect.poll(() => answer.innerText()).toContain('Hourly fee: 3 EUR');
      await answer.locator('[data-testid="citation-chip"]').first().click();
      const panel = page.locator('[data-testid="citation-panel"]');
      await expect.poll(() => panel.innerText()).toContain(locale === 'zh-CN' ? '第 2 页' : 'Page 2');
      const table = panel.locator('[data-testid="passage-table"]');
      expect(await table.locator('th').allInnerTexts()).toEqual(['Garage', 'Hourly fee', 'Day ticket']);
      expect(await table.locator('tbody tr').nth(1).locator('td').allInnerTexts()).toEqual([
        'Garage B',
        '3 EUR',
        '15 EUR',
      ]);
      await screenshot(page, name);
      await page.context().close();
    }
  }, 180_000);
});
