import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upload } from '../knowledge/helpers.ts';
import { newBot } from '../support/fixtures.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { appEnglish, englishOnPage, routerPatterns } from './support/app-english.ts';
import { screenshot } from './support/browser.ts';
import { LOCALES, overflow, setLanguage, shots, SIZES } from './support/pages.ts';

/*
 * Every route of the web app, as the person it is for, on a phone and a laptop, in English and
 * Chinese: no page is wider than the screen, and a Chinese page shows no English of the app's own.
 * A server of its own: everything people enter here is Chinese, so any English left is the app's.
 */
describe('every route of the web app, at both sizes, in both languages', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it('fits every route into a 390 px phone and a 1440 px laptop, and speaks only Chinese in Chinese', async () => {
    // What people enter is Chinese here: any English word left on a Chinese page is the app's own.
    const admin = await world.user('admin', '王宽');
    const employee = await world.user('employee', '顾盖');
    const agent = await world.user('agent', '艾达');
    const botId = await newBot(world.app);
    await world.app.services.db.query("UPDATE bots SET name = '行政助手' WHERE id = $1", [botId]);
    const chat = await world.api(employee, 'POST', '/api/conversations', { botId });
    await world.api(employee, 'POST', `/api/conversations/${chat.body.conversation.id}/messages`, {
      body: '晚上可以把自行车停在大楼附近吗？',
    });
    await expect
      .poll(async () => (await world.api(admin, 'GET', '/api/admin/gaps')).body.items.length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    const queued = await world.api(employee, 'POST', '/api/conversations', { kind: 'support' });
    await world.api(employee, 'POST', `/api/conversations/${queued.body.conversation.id}/messages`, {
      body: '我的笔记本电脑开不了机。',
    });
    const claimed = await world.api(employee, 'POST', '/api/conversations', { kind: 'support' });
    await world.api(employee, 'POST', `/api/conversations/${claimed.body.conversation.id}/messages`, {
      body: '三楼的打印机卡纸了。',
    });
    expect((await world.api(agent, 'POST', `/api/conversations/${claimed.body.conversation.id}/claim`)).status).toBe(
      200,
    );
    const group = (await world.api(admin, 'POST', '/api/groups', { name: '行政部' })).body.group;
    const collection = (await world.api(admin, 'POST', '/api/collections', { name: '行政手册' })).body.collection;
    await world.api(admin, 'POST', `/api/collections/${collection.id}/documents`, {
      title: '停车规定',
      text: '自行车可以整夜停放在地下室的车架上。',
      groups: [group.id],
    });
    const faq = await world.api(admin, 'POST', `/api/collections/${collection.id}/documents`, {
      question: '食堂在哪里？',
      answer: '在一楼。',
    });
    const faqId: string = faq.body.document.id;
    await expect
      .poll(async () => (await world.api(admin, 'GET', `/api/documents/${faqId}`)).body.document.status, {
        timeout: 15_000,
      })
      .toBe('ready');
    await upload(world.app, admin.token, collection.id, '员工手册.md', Buffer.from('# 员工手册\n\n上班时间为九点。\n'));
    await world.api(employee, 'POST', '/api/tokens', { name: '报表脚本', scopes: ['chat'] });

    type Persona = 'visitor' | 'employee' | 'agent' | 'admin';
    /** Every route of web/src/router/index.ts (its pattern), as the persona it is for. */
    const visits: { pattern: string; path: string; as: Persona; ready?: string }[] = [
      { pattern: '/login', path: '/login', as: 'visitor', ready: 'input[name="email"]' },
      { pattern: '/', path: '/', as: 'employee' },
      { pattern: '/c/:id', path: `/c/${chat.body.conversation.id}`, as: 'employee' },
      { pattern: '/tokens', path: '/tokens', as: 'employee', ready: '[data-testid="token-row"]' },
      { pattern: '/documents/:id', path: `/documents/${faqId}`, as: 'employee', ready: '[data-testid="passage"]' },
      { pattern: '/agent', path: '/agent', as: 'agent' },
      { pattern: '/agent/c/:id', path: `/agent/c/${claimed.body.conversation.id}`, as: 'agent' },
      { pattern: '/admin', path: '/admin', as: 'admin', ready: 'tbody tr' },
      { pattern: '/admin/users', path: '/admin/users', as: 'admin', ready: 'tbody tr' },
      { pattern: '/admin/groups', path: '/admin/groups', as: 'admin', ready: 'tbody tr' },
      {
        pattern: '/admin/knowledge/:collectionId?',
        path: `/admin/knowledge/${collection.id}`,
        as: 'admin',
        ready: '[data-testid="document-row"]',
      },
      { pattern: '/admin/search', path: '/admin/search', as: 'admin' },
      { pattern: '/admin/bots', path: '/admin/bots', as: 'admin', ready: 'tbody tr' },
      { pattern: '/admin/gaps', path: '/admin/gaps', as: 'admin', ready: 'tbody tr' },
      { pattern: '/admin/analytics', path: '/admin/analytics', as: 'admin', ready: '.kpi' },
      { pattern: '/admin/audit', path: '/admin/audit', as: 'admin', ready: 'tbody tr' },
      { pattern: '/admin/organisation', path: '/admin/organisation', as: 'admin' },
      { pattern: '/:pathMatch(.*)*', path: '/no-such-page', as: 'employee' },
    ];
    // A route added to the router and not here fails this test: every route is looked at.
    expect(visits.map((v) => v.pattern).sort()).toEqual(routerPatterns().sort());

    const people: Record<Exclude<Persona, 'visitor'>, { email: string }> = { employee, agent, admin };
    const pages = new Map<Persona, Page>();
    const pageOf = async (persona: Persona) => {
      if (!pages.has(persona)) {
        const page = await (await world.browser.newContext()).newPage();
        await page.setViewportSize({ width: 1440, height: 900 });
        if (persona !== 'visitor') await signIn(page, world.app.url, people[persona]);
        pages.set(persona, page);
      }
      return pages.get(persona)!;
    };

    const dictionary = await appEnglish();
    const wider: string[] = [];
    const english: string[] = [];
    const blind: string[] = [];
    for (const visit of visits) {
      const page = await pageOf(visit.as);
      await page.goto(`${world.app.url}${visit.path}`);
      await page.waitForLoadState('networkidle');
      if (visit.ready) await page.locator(visit.ready).first().waitFor();
      const slug = visit.pattern.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '') || 'chat';
      for (const locale of LOCALES) {
        await setLanguage(page, locale);
        for (const size of SIZES) {
          await page.setViewportSize({ width: size.width, height: size.height });
          // A chart redraws for the new width a moment after it: measured once the page has settled.
          let o = await overflow(page);
          for (let i = 0; i < 10 && (o.document > 0 || o.main > 0); i += 1) {
            await page.waitForTimeout(200);
            o = await overflow(page);
          }
          if (o.document > 0 || o.main > 0)
            wider.push(
              `${visit.path} ${locale} ${size.width}px: document +${o.document}px, main pane +${o.main}px (${o.culprit})`,
            );
          const found = await englishOnPage(page, dictionary);
          if (locale === 'zh-CN') english.push(...found.map((leak) => `${visit.path} ${size.width}px: ${leak}`));
          // The same scan finds the dictionary on the English page: it is not blind to this one.
          else if (!found.some((leak) => !leak.includes('(English:'))) blind.push(`${visit.path} ${size.width}px`);
          await screenshot(page, `routes-${slug}-${size.tag}-${locale}`);
        }
      }
      await setLanguage(page, 'en');
    }
    expect({ wider, english: [...new Set(english)], blind }).toEqual({ wider: [], english: [], blind: [] });
    for (const page of pages.values()) await page.context().close();

    const context = await world.browser.newContext();
    const page = await context.newPage();
    await signIn(page, world.app.url, employee);
    // the tokens page and the header, as a phone shows them: the header on one line
    await page.goto(`${world.app.url}/tokens`);
    await page.locator('[data-testid="token-row"]').first().waitFor();
    for (const locale of LOCALES) {
      await setLanguage(page, locale);
      await page.setViewportSize({ width: 390, height: 844 });
      const header = (await page.locator('.app-header').boundingBox())!;
      expect(header.height, `the ${locale} header on a phone`).toBeLessThanOrEqual(60);
      // the links are one tap away
      await page.locator('[data-testid="menu-toggle"]').click();
      await page.getByRole('link', { name: locale === 'en' ? 'API tokens' : 'API 令牌' }).waitFor();
      await screenshot(page, `web19-phone-menu-${locale}`);
      await page.locator('[data-testid="menu-toggle"]').click();
    }
    await shots(page, 'tokens');
    await context.close();
  }, 420_000);
});
