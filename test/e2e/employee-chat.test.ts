import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAi, type Behaviour, type ChatCall } from '../support/fake-openai.ts';
import type { TestUser } from '../support/fixtures.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';

/** Sections between the two that are cited, so the cited passage is a later chunk, below the fold. */
const OTHER_TOPICS = [
  'Office hours',
  'Expenses',
  'Travel booking',
  'Laptops',
  'Security badges',
  'Remote work',
  'Training',
];
const filler = OTHER_TOPICS.map(
  (topic) =>
    `## ${topic}\n\n${`The ${topic.toLowerCase()} rules apply to every team and are reviewed each spring by the people team, who publish changes on the intranet with two weeks of notice. `.repeat(6)}`,
).join('\n\n');
const OTHER_TOPICS_ZH = ['办公时间', '费用报销', '差旅预订', '笔记本电脑', '门禁卡', '远程办公', '培训'];
const fillerZh = OTHER_TOPICS_ZH.map(
  (topic) =>
    `## ${topic}\n\n${`${topic}规定适用于所有团队，每年春季由人事部门复核，变更会提前两周在内网公布。`.repeat(8)}`,
).join('\n\n');

const HANDBOOK = {
  title: 'Employee Handbook',
  text: `**Annual leave.** Every full-time employee receives fifteen working days of annual leave per calendar year. Unused annual leave may be carried over until March.\n\n${filler}\n\n## Sick leave\n\n**Sick leave.** Sick leave requires a doctor note after three consecutive days. Report sick leave to your manager before 10:00.`,
};
const HANDBOOK_ZH = {
  title: '员工手册',
  text: `**年假**：全职员工每年享有十五个工作日的带薪年假。未休年假可保留至次年三月。\n\n${fillerZh}\n\n## 病假\n\n**病假**：连续病假超过三天需提供医生证明。请在上午十点前向主管报告病假。`,
};

const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1440, height: 900 } } as const;

/** What the employee asks, in each language, and what the fake model makes of it. */
const QUESTIONS = {
  en: {
    slow: 'How many days of annual leave do I get?',
    cited: 'What do I need for sick leave?',
    unknown: 'Where can I park my bicycle?',
  },
  'zh-CN': { slow: '我每年有多少天年假？', cited: '请病假需要什么材料？', unknown: '自行车可以停在哪里？' },
} as const;

const isAnswer = (call: ChatCall) => call.body.messages[0]?.role === 'system';
const isTitle = (call: ChatCall) => call.body.messages.at(-1)?.content.includes('short title') === true;
const asked = (call: ChatCall, ...words: string[]) => words.some((w) => call.body.messages.at(-1)!.content.includes(w));

/** Annual leave streams slowly (time to see "thinking" and to press Stop), sick leave cites, parking declines. */
function fakeModel(call: ChatCall): Behaviour {
  if (isTitle(call)) return { reply: asked(call, '年假') ? '年假天数' : 'Annual leave days' };
  if (!isAnswer(call)) return { reply: '{"wants_person": 0, "frustrated": 0, "complaint": 0}' };
  if (asked(call, 'annual leave', '年假'))
    return {
      reply: ['Every ', 'full-time ', 'employee ', 'gets ', 'fifteen ', 'working ', 'days ', '[1]', ' and ', 'more.'],
      firstTokenDelayMs: 2500,
      chunkDelayMs: 700,
    };
  if (asked(call, 'sick leave', '病假'))
    return {
      reply: asked(call, '病假')
        ? '连续病假超过三天需要**医生证明** [1]。'
        : 'You need a **doctor note** after three days [1].',
    };
  return { reply: '[[NO_ANSWER]]' };
}

async function waitReady(world: E2eWorld, admin: TestUser, documentId: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // Indexing on PGlite holds the event loop: a poll may find its kept-alive connection gone.
    const d = await world.api(admin, 'GET', `/api/documents/${documentId}`).catch(() => undefined);
    if (d?.body.document.status === 'ready') return;
    if (d?.body.document.status === 'failed' || Date.now() > deadline) throw new Error(JSON.stringify(d?.body));
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The page is no wider than its viewport (nothing scrolls sideways on a phone). */
const noSidewaysScroll = (page: Page) =>
  page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');

describe('the employee chat (ChatGPT-level)', () => {
  let world: E2eWorld;
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let admin: TestUser;
  let agent: TestUser;
  let botId: string;
  /** Per language: a conversation with a cited answer, its cited passage and the resolved support chat. */
  const made: Record<string, { employee: TestUser; chat: string; documentId: string; chunkId: string }> = {};

  beforeAll(async () => {
    model = await startFakeOpenAi(fakeModel);
    world = await startWorld({ OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', MODEL_ATTEMPTS: '1' });
    admin = await world.user('admin', 'Kim Admin');
    agent = await world.user('agent', 'Aaron Agent');
    const collection = await world.api(admin, 'POST', '/api/collections', { name: 'Handbook' });
    const collectionId: string = collection.body.collection.id;
    for (const doc of [HANDBOOK, HANDBOOK_ZH]) {
      const added = await world.api(admin, 'POST', `/api/collections/${collectionId}/documents`, doc);
      await waitReady(world, admin, added.body.document.id);
    }
    const bot = await world.api(admin, 'POST', '/api/bots', {
      slug: 'hr',
      name: 'HR Assistant',
      greeting: 'Hello! Ask me about HR policies.',
      collectionIds: [collectionId],
      handoff: { minScore: 0.05 },
    });
    botId = bot.body.bot.id;
  }, 180_000);

  afterAll(async () => {
    await world?.close();
    await model?.close();
  });

  it.each([
    ['en', 'desktop'],
    ['zh-CN', 'phone'],
  ] as const)(
    'in %s on a %s: thinking → stream → Stop, a cited passage opened in its document, a person on a decline, a rating after resolve',
    async (locale, size) => {
      const employee = await world.user('employee', locale === 'en' ? 'Eva Employee' : '王芳');
      const q = QUESTIONS[locale];
      const context = await world.browser.newContext({ locale, mobile: size === 'phone' });
      const page = await context.newPage();
      await page.setViewportSize(SIZES[size]);
      await signIn(page, world.app.url, employee);
      const created = await world.api(employee, 'POST', '/api/conversations', { botId });
      const id: string = created.body.conversation.id;
      await page.goto(`${world.app.url}/c/${id}`);
      await page.locator('[data-testid="message"]').first().waitFor();
      const shot = (name: string) => screenshot(page, `b-${locale}-${size}-${name}`);

      // 1. Thinking from send until the first word, then the stream, then Stop.
      const abortedBefore = model.aborted.length;
      await page.locator('[data-testid="composer-input"]').fill(q.slow);
      await page.locator('[data-testid="composer-send"]').click();
      const thinking = page.locator('[data-testid="thinking"]');
      await thinking.waitFor({ timeout: 5000 });
      expect(await page.locator('[data-testid="answer-status"]').getAttribute('aria-live')).toBe('polite');
      expect(await page.locator('[data-testid="stop-button"]').isVisible()).toBe(true);
      await shot('chat-thinking');
      const streaming = page.locator('[data-testid="message"].bot.streaming');
      await expect.poll(() => streaming.innerText(), { timeout: 15_000 }).toContain('full-time');
      expect(await thinking.count()).toBe(0);
      await shot('chat-streaming');
      await page.locator('[data-testid="stop-button"]').click();
      const stopped = page.locator('[data-testid="message"].bot', {
        has: page.locator('[data-testid="stopped-label"]'),
      });
      await stopped.waitFor({ timeout: 10_000 });
      expect(await stopped.innerText()).not.toContain('more.');
      expect(await page.locator('[data-testid="stop-button"]').count()).toBe(0);
      expect(await page.locator('[data-testid="message"].bot.streaming').count()).toBe(0);
      // The server aborted the model's request: the fake model saw its connection close.
      await expect.poll(() => model.aborted.length, { timeout: 10_000 }).toBeGreaterThan(abortedBefore);

      // 2. A cited answer: the passage rendered as Markdown, then the document open at that passage.
      await page.locator('[data-testid="composer-input"]').fill(q.cited);
      await page.locator('[data-testid="composer-send"]').click();
      const cited = page.locator('[data-testid="message"].bot', { has: page.locator('[data-testid="citation-chip"]') });
      await cited.waitFor({ timeout: 20_000 });
      // The title in the list: the model's short title of the first question (written after the
      // first answer), not the raw question or the bot's name.
      const title = locale === 'en' ? 'Annual leave days' : '年假天数';
      if (size === 'desktop')
        await expect
          .poll(() => page.locator('[data-testid="conversation-item"]', { hasText: title }).count(), {
            timeout: 10_000,
          })
          .toBe(1);
      await cited.locator('[data-testid="citation-chip"]').first().click();
      const snippet = page.locator('[data-testid="citation-snippet"]');
      await snippet.waitFor();
      expect(await snippet.locator('strong').count()).toBeGreaterThan(0);
      expect(await snippet.innerText()).not.toContain('**');
      await shot('citation-panel');
      await page.locator('[data-testid="open-document"]').click();
      await page.waitForURL(/\/documents\//);
      const highlighted = page.locator('[data-testid="cited-passage"]');
      await highlighted.waitFor();
      expect(await highlighted.innerText()).toContain(locale === 'en' ? 'doctor note' : '医生证明');
      // In view (scrolled to), and highlighted.
      await expect
        .poll(async () => {
          const box = await highlighted.boundingBox();
          return box !== null && box.y >= 0 && box.y + Math.min(box.height, 200) <= SIZES[size].height;
        })
        .toBe(true);
      const background = await page.evaluate<string>(
        `getComputedStyle(document.querySelector('[data-testid="cited-passage"]')).backgroundColor`,
      );
      expect(background).not.toBe('rgba(0, 0, 0, 0)');
      expect(await noSidewaysScroll(page)).toBe(true);
      await shot('document-view');
      const url = new URL(page.url());
      made[locale] = {
        employee,
        chat: id,
        documentId: url.pathname.split('/').pop()!,
        chunkId: url.searchParams.get('chunk')!,
      };
      await page.locator('[data-testid="document-back"]').click();
      await page.waitForURL(new RegExp(`/c/${id}$`));

      // 3. A decline offers a person as a button, which hands the conversation over.
      await page.locator('[data-testid="composer-input"]').fill(q.unknown);
      await page.locator('[data-testid="composer-send"]').click();
      const offer = page.locator('[data-testid="offer-person"]');
      await offer.waitFor({ timeout: 20_000 });
      await shot('chat-offer-person');
      await offer.click();
      await page.locator('[data-testid="queue-status"]').waitFor({ timeout: 10_000 });
      expect(await offer.count()).toBe(0);

      // 4. A person resolves it: a resolved notice and a 1–5 rating with a comment, changeable.
      await world.api(agent, 'POST', `/api/conversations/${id}/claim`);
      await world.api(agent, 'POST', `/api/conversations/${id}/resolve`);
      const notice = page.locator('[data-testid="resolved-notice"]');
      await notice.waitFor({ timeout: 10_000 });
      await page.locator('[data-testid="rating-4"]').click();
      await page.locator('[data-testid="rating-comment"]').fill(locale === 'en' ? 'Quick and kind' : '很快，很友好');
      await page.locator('[data-testid="rating-submit"]').click();
      await page.locator('[data-testid="rating-saved"]').waitFor();
      const stored = await world.api(employee, 'GET', `/api/conversations/${id}/rating`);
      expect(stored.body.rating).toMatchObject({ rating: 4 });
      expect(await noSidewaysScroll(page)).toBe(true);
      await shot('resolved-rating');
      // After a reload it is still there, and can be changed.
      await page.reload();
      await page.locator('[data-testid="rating-saved"]').waitFor();
      expect(await page.locator('[data-testid="rating-4"]').getAttribute('aria-checked')).toBe('true');
      await page.locator('[data-testid="rating-5"]').click();
      await page.locator('[data-testid="rating-submit"]').click();
      await expect
        .poll(async () => (await world.api(employee, 'GET', `/api/conversations/${id}/rating`)).body.rating.rating)
        .toBe(5);
      await context.close();
    },
    120_000,
  );

  it('shows the employee screens at both sizes in both languages, and CSAT in the admin analytics', async () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      const conversation = made[locale];
      expect(conversation, `the ${locale} scenario ran first`).toBeDefined();
      for (const size of ['phone', 'desktop'] as const) {
        const context = await world.browser.newContext({ locale, mobile: size === 'phone' });
        const page = await context.newPage();
        await page.setViewportSize(SIZES[size]);
        await signIn(page, world.app.url, conversation!.employee);
        const shot = (name: string) => screenshot(page, `b-${locale}-${size}-${name}`);
        await page.goto(`${world.app.url}/c/${conversation!.chat}`);
        await page.locator('[data-testid="resolved-notice"]').waitFor();
        await page.locator('[data-testid="rating-saved"]').waitFor();
        expect(await noSidewaysScroll(page)).toBe(true);
        await shot('resolved-rating-again');
        // The cited answer, further up the same conversation.
        const cited = page.locator('[data-testid="message"].bot', {
          has: page.locator('[data-testid="citation-chip"]'),
        });
        await cited.scrollIntoViewIfNeeded();
        await shot('chat-citations');
        await page.goto(`${world.app.url}/documents/${conversation!.documentId}?chunk=${conversation!.chunkId}`);
        await page.locator('[data-testid="cited-passage"]').waitFor();
        expect(await noSidewaysScroll(page)).toBe(true);
        await shot('document-view-again');
        await context.close();
      }
    }
    const page = await (await world.browser.newContext({ locale: 'zh-CN' })).newPage();
    await page.setViewportSize(SIZES.desktop);
    await signIn(page, world.app.url, admin);
    await page.goto(`${world.app.url}/admin/analytics`);
    const analytics = page.locator('[data-testid="admin-analytics"]');
    await expect.poll(() => analytics.innerText(), { timeout: 10_000 }).toContain('满意度（CSAT）');
    // Two ratings of 5: the average and the count.
    expect(await analytics.innerText()).toContain('5.0 / 5');
    expect(await analytics.innerText()).toContain('2 条评分');
    await screenshot(page, 'b-zh-CN-desktop-analytics-csat');
  }, 120_000);
});
