import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBot } from '../support/fixtures.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';

/** Polls until `fn` stops throwing (a live update that has to arrive over the socket). */
async function eventually(fn: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const texts = (page: Page, selector: string) => page.locator(selector).allInnerTexts();

describe('the web app in a real browser', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it('signs an admin in and shows the admin console', async () => {
    const admin = await world.user('admin', 'Ada Admin');
    const context = await world.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${world.app.url}/`);
    await page.waitForURL(/\/login/);
    await expect.poll(() => page.locator('h1').innerText()).toBe('Sign in');
    await screenshot(page, '01-login');

    // a wrong password is refused with a reason
    await page.locator('input[name="email"]').fill(admin.email);
    await page.locator('input[name="password"]').fill('wrong password');
    await page.locator('form button[type="submit"]').click();
    await expect.poll(() => page.locator('[data-testid="login-error"]').innerText()).toContain('not correct');

    await signIn(page, world.app.url, admin);
    await page.waitForURL(/\/admin\/users/);
    await page.locator('[data-testid="admin-users"] table').waitFor();
    await expect.poll(() => texts(page, '[data-testid="admin-users"] tbody td')).toContain(admin.email);
    await expect.poll(() => page.locator('[data-testid="current-user"]').innerText()).toBe('Ada Admin');
    await screenshot(page, '02-admin-users');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('[data-testid="admin-audit"] table').waitFor();
    await expect
      .poll(async () => (await texts(page, '[data-testid="admin-audit"] tbody tr')).length)
      .toBeGreaterThan(0);
    await screenshot(page, '03-admin-audit');
    await context.close();
  });

  it('shows the bots editor, knowledge gaps and analytics charts to an admin', async () => {
    const admin = await world.user('admin', 'Bea Bots');
    const created = await world.api(admin, 'POST', '/api/bots', {
      slug: `it-${Date.now().toString(36)}`,
      name: 'IT Helpdesk',
      greeting: 'Hi!',
    });
    expect(created.status).toBe(201);
    const page = await (await world.browser.newContext()).newPage();
    await signIn(page, world.app.url, admin);
    await page.getByRole('link', { name: 'Bots' }).click();
    await expect.poll(() => page.locator('[data-testid="admin-bots"] tbody').innerText()).toContain('IT Helpdesk');
    await page
      .locator('[data-testid="admin-bots"] tbody tr', { hasText: 'IT Helpdesk' })
      .getByRole('button', { name: 'Edit' })
      .click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Greeting').fill('Hello, this is IT.');
    await dialog.getByLabel('Confidence threshold').fill('0.4');
    await screenshot(page, '14-admin-bot-editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    const saved = await world.api(admin, 'GET', `/api/bots/${created.body.bot.id}`);
    expect(saved.body.bot.greeting).toBe('Hello, this is IT.');
    expect(saved.body.bot.handoff.minScore).toBe(0.4);

    await page.getByRole('link', { name: 'Knowledge gaps' }).click();
    await page.locator('[data-testid="admin-gaps"]').waitFor();
    await page.getByRole('link', { name: 'Analytics' }).click();
    await page.locator('[data-testid="admin-analytics"] canvas').first().waitFor();
    await expect.poll(() => page.locator('[data-testid="admin-analytics"]').innerText()).toContain('Deflection rate');
    await screenshot(page, '15-admin-analytics');
    await page.context().close();
  });

  it('imports FAQ pairs from a CSV file: a preview first, then the new documents in the list and a known one reported as a duplicate', async () => {
    const admin = await world.user('admin', 'Fay FAQ');
    const collection = await world.api(admin, 'POST', '/api/collections', { name: 'IT FAQ' });
    expect(collection.status).toBe(201);
    const collectionId: string = collection.body.collection.id;
    const known = { question: 'How do I reset my password?', answer: 'Open Settings, then Security, then "Reset".' };
    expect((await world.api(admin, 'POST', `/api/collections/${collectionId}/documents`, known)).status).toBe(202);

    const csv = [
      'Question,Answer',
      `"${known.question}","${known.answer.replaceAll('"', '""')}"`,
      'Who approves leave?,"Your manager, in the HR portal."',
      '"Where is the printer?","Floor 3,\r\nnext to the kitchen."',
      'Forgotten row,',
    ].join('\r\n');

    const page = await (await world.browser.newContext()).newPage();
    await signIn(page, world.app.url, admin);
    await page.goto(`${world.app.url}/admin/knowledge/${collectionId}`);
    await expect.poll(() => texts(page, '[data-testid="document-row"]')).toHaveLength(1);
    await page.getByRole('tab', { name: 'Import FAQ' }).click();
    await page
      .locator('[data-testid="faq-import-file"]')
      .setInputFiles({ name: 'it-faq.csv', mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${csv}`) });
    await expect.poll(() => page.locator('[data-testid="faq-import-count"]').innerText()).toBe('Pairs to import: 3');
    expect(await texts(page, '[data-testid="faq-import-pair"] td:nth-child(2)')).toEqual([
      known.question,
      'Who approves leave?',
      'Where is the printer?',
    ]);
    expect(await page.locator('[data-testid="faq-import-errors"]').innerText()).toBe('Line 6: the answer is empty');
    await screenshot(page, '16-admin-faq-import-preview');

    await page.locator('[data-testid="faq-import-submit"]').click();
    await expect
      .poll(() => page.locator('[data-testid="faq-import-summary"]').innerText())
      .toBe('Added: 2. Already in the collection: 1.');
    // the new ones are listed at once (no reload), the known one once, and each becomes ready live
    await expect
      .poll(() => texts(page, '[data-testid="document-row"] .title'))
      .toEqual(expect.arrayContaining([known.question, 'Who approves leave?', 'Where is the printer?']));
    expect(await page.locator('[data-testid="document-row"]').count()).toBe(3);
    await eventually(async () => {
      expect(await page.locator('[data-testid="document-row"][data-status="ready"]').count()).toBe(3);
    }, 30_000);
    await screenshot(page, '17-admin-faq-import-done');

    const listed = await world.api(admin, 'GET', `/api/collections/${collectionId}/documents`);
    expect(listed.body.items.map((d: { title: string }) => d.title).sort()).toEqual([
      known.question,
      'Where is the printer?',
      'Who approves leave?',
    ]);
    await page.context().close();
  }, 60_000); // indexing included

  it('switches the whole interface between English and Chinese, and remembers the choice', async () => {
    const admin = await world.user('admin', 'Lang Admin');
    const context = await world.browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page, world.app.url, admin);
    await page.waitForURL(/\/admin\/users/);
    const english = [
      'Chat',
      'Agent console',
      'Admin',
      'Sign out',
      'Users',
      'Groups',
      'Knowledge',
      'Audit log',
      'New user',
    ];
    const chinese = ['对话', '客服工作台', '管理', '退出登录', '用户', '部门', '知识库', '审计日志', '新建用户'];
    const body = () => page.locator('body').innerText();
    for (const s of english) await expect.poll(body).toContain(s);

    await page.locator('[data-testid="language-switch"]').selectOption('zh-CN');
    for (const s of chinese) await expect.poll(body).toContain(s);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    for (const s of ['Sign out', 'Audit log', 'New user']) expect(await body()).not.toContain(s);
    await screenshot(page, '04-admin-users-zh');

    await page.reload();
    await expect.poll(body).toContain('退出登录');

    await page.locator('[data-testid="language-switch"]').selectOption('en');
    await expect.poll(body).toContain('Sign out');
    await context.close();

    // a browser that prefers Chinese starts in Chinese, before anyone signs in
    const zhContext = await world.browser.newContext({ locale: 'zh-CN' });
    const zhPage = await zhContext.newPage();
    await zhPage.goto(`${world.app.url}/login`);
    await expect.poll(() => zhPage.locator('h1').innerText()).toBe('登录');
    await screenshot(zhPage, '05-login-zh');
    await zhContext.close();
  });

  it('shows an employee their conversations with unread counts, the greeting, and sends a message', async () => {
    const employee = await world.user('employee', 'Emma Employee');
    const colleague = await world.user('employee', 'Carl Colleague');
    const botId = await newBot(world.app, { greeting: 'Hello! I am the HR assistant.' });
    const bot = await world.api(employee, 'POST', '/api/conversations', { botId });
    expect(bot.status).toBe(201);
    const direct = await world.api(colleague, 'POST', '/api/conversations', { kind: 'direct', userId: employee.id });
    await world.api(colleague, 'POST', `/api/conversations/${direct.body.conversation.id}/messages`, {
      body: 'Lunch at noon?',
      clientId: 'lunch-1',
    });

    const context = await world.browser.newContext();
    const page = await context.newPage();
    await signIn(page, world.app.url, employee);
    await page.locator('[data-testid="conversation-list"]').waitFor();
    await expect.poll(async () => (await texts(page, '[data-testid="conversation-item"]')).length).toBe(2);
    await expect
      .poll(() =>
        page
          .locator('[data-testid="conversation-item"]', { hasText: 'Carl Colleague' })
          .or(page.locator('[data-testid="conversation-item"]', { hasText: 'Direct message' }))
          .locator('[data-testid="unread-count"]')
          .innerText(),
      )
      .toBe('1');
    await screenshot(page, '06-employee-conversations');

    await page.goto(`${world.app.url}/c/${bot.body.conversation.id}`);
    await expect
      .poll(() => texts(page, '[data-testid="message"]'))
      .toEqual([expect.stringContaining('Hello! I am the HR assistant.')]);
    await page.locator('[data-testid="composer-input"]').fill('How many days of annual leave do I get?');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.locator('[data-testid="message"].mine').first().innerText())
      .toContain('How many days of annual leave do I get?');
    // it is stored, not just shown: it has a server id and survives a reload
    await expect
      .poll(() => page.locator('[data-testid="message"].mine').first().getAttribute('data-message-id'))
      .toMatch(/^\d+$/);
    await screenshot(page, '07-employee-chat');
    await page.reload();
    await expect
      .poll(() => texts(page, '[data-testid="message"].mine'))
      .toEqual([expect.stringContaining('How many days of annual leave')]);
    const history = await world.api(employee, 'GET', `/api/conversations/${bot.body.conversation.id}/messages`);
    expect(history.body.items.filter((m: { body: string }) => m.body.startsWith('How many days')).length).toBe(1);

    // the direct chat becomes read once opened
    await page.locator('[data-testid="conversation-item"]', { hasText: /Carl Colleague|Direct message/ }).click();
    await expect
      .poll(() => texts(page, '[data-testid="message"]'))
      .toEqual([expect.stringContaining('Lunch at noon?')]);
    await expect.poll(() => page.locator('[data-testid="unread-count"]').count()).toBe(0);
    await context.close();
  });

  it('lets an agent see a new support request live, claim it and reply, and the employee sees the reply live', async () => {
    const employee = await world.user('employee', 'Erin Employee');
    const agent = await world.user('agent', 'Alex Agent');

    const agentContext = await world.browser.newContext();
    const agentPage = await agentContext.newPage();
    await signIn(agentPage, world.app.url, agent);
    await agentPage.waitForURL(/\/agent/);
    await agentPage.locator('[data-testid="tab-queue"]').waitFor();
    const queueBefore = await agentPage.locator('[data-testid="queue-item"]').count();

    // the employee asks for a person (arranged over the API), then watches the conversation
    const created = await world.api(employee, 'POST', '/api/conversations', { kind: 'support' });
    expect(created.status).toBe(201);
    const id: string = created.body.conversation.id;
    await world.api(employee, 'POST', `/api/conversations/${id}/messages`, {
      body: 'My laptop will not start.',
      clientId: 'laptop-1',
    });

    const employeeContext = await world.browser.newContext();
    const employeePage = await employeeContext.newPage();
    await signIn(employeePage, world.app.url, employee);
    await employeePage.goto(`${world.app.url}/c/${id}`);
    await expect
      .poll(() => employeePage.locator('[data-testid="queue-status"]').innerText())
      .toContain('Waiting for a person');
    await screenshot(employeePage, '08-employee-queued');

    // live: no reload on the agent's side
    await eventually(async () =>
      expect(await agentPage.locator('[data-testid="queue-item"]').count()).toBe(queueBefore + 1),
    );
    await expect
      .poll(() => agentPage.locator('[data-testid="queue-item"]').last().innerText())
      .toContain('The user asked for a person');
    await screenshot(agentPage, '09-agent-queue');

    await agentPage.locator(`a[href="/agent/c/${id}"]`).click();
    await expect
      .poll(() => texts(agentPage, '[data-testid="message"]'))
      .toEqual([expect.stringContaining('My laptop will not start.')]);
    await agentPage.locator('[data-testid="claim"]').click();
    await agentPage.locator('[data-testid="resolve"]').waitFor();

    // an internal note stays internal
    await agentPage.locator('[data-testid="internal-toggle"]').check();
    await agentPage.locator('[data-testid="composer-input"]').fill('Probably the battery.');
    await agentPage.locator('[data-testid="composer-send"]').click();
    await expect
      .poll(() => agentPage.locator('[data-testid="message"].internal').innerText())
      .toContain('Probably the battery.');
    await agentPage.locator('[data-testid="internal-toggle"]').uncheck();

    await agentPage
      .locator('[data-testid="composer-input"]')
      .fill('Hi Erin, please hold the power button for 10 seconds.');
    await agentPage.locator('[data-testid="composer-send"]').click();
    await expect
      .poll(() => agentPage.locator('[data-testid="message"].mine').last().innerText())
      .toContain('hold the power button');
    await screenshot(agentPage, '10-agent-conversation');

    await eventually(async () =>
      expect(await employeePage.locator('[data-testid="message"]', { hasText: 'hold the power button' }).count()).toBe(
        1,
      ),
    );
    expect(await employeePage.locator('[data-testid="message"]', { hasText: 'Probably the battery' }).count()).toBe(0);
    await expect.poll(() => employeePage.locator('[data-testid="queue-status"]').count()).toBe(0);
    await screenshot(employeePage, '11-employee-sees-reply');

    // the agent resolves; the employee's view follows
    await agentPage.locator('[data-testid="resolve"]').click();
    await eventually(async () => expect(await employeePage.locator('.pane-header').innerText()).toContain('Resolved'));
    await agentContext.close();
    await employeeContext.close();
  });

  it("fits an admin's tables on a phone: no page scrolls sideways", async () => {
    const admin = await world.user('admin', 'Pat Phone');
    const employee = await world.user('employee', 'Gus Gap');
    const botId = await newBot(world.app);
    const c = await world.api(employee, 'POST', '/api/conversations', { botId });
    const question = 'Which form do I need to claim the travel costs of a trip abroad?';
    await world.api(employee, 'POST', `/api/conversations/${c.body.conversation.id}/messages`, { body: question });
    await eventually(async () => {
      const gaps = await world.api(admin, 'GET', '/api/admin/gaps');
      expect(gaps.body.items.length).toBeGreaterThan(0);
    });
    const context = await world.browser.newContext({ mobile: true });
    const page = await context.newPage();
    await signIn(page, world.app.url, admin);
    // Against the phone's width: a mobile browser widens its layout viewport to overflowing content.
    const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - screen.width');
    for (const [path, testId] of [
      ['/admin/users', 'admin-users'],
      ['/admin/gaps', 'admin-gaps'],
      ['/admin/audit', 'admin-audit'],
    ]) {
      await page.goto(`${world.app.url}${path}`);
      await page.locator(`[data-testid="${testId}"] tbody tr`).first().waitFor();
      expect(await overflow(), `${path} is wider than the phone`).toBeLessThanOrEqual(0);
      await screenshot(page, `29-phone-${testId}`);
    }
    await context.close();
  });

  it('works on a phone: the list, then one conversation with a way back', async () => {
    const employee = await world.user('employee', 'Pia Phone');
    const botId = await newBot(world.app, { greeting: 'Hi from the IT bot.' });
    const c = await world.api(employee, 'POST', '/api/conversations', { botId });
    const context = await world.browser.newContext({ mobile: true });
    const page = await context.newPage();
    await signIn(page, world.app.url, employee);
    await page.locator('[data-testid="conversation-item"]').first().waitFor();
    await screenshot(page, '12-phone-list');
    await page.locator('[data-testid="conversation-item"]').first().click();
    await page.waitForURL(new RegExp(`/c/${c.body.conversation.id}`));
    await expect.poll(() => page.locator('[data-testid="conversation-list"]').isVisible()).toBe(false);
    await expect
      .poll(() => texts(page, '[data-testid="message"]'))
      .toEqual([expect.stringContaining('Hi from the IT bot.')]);
    await screenshot(page, '13-phone-conversation');
    await page.getByRole('link', { name: 'Back to conversations' }).click();
    await expect.poll(() => page.locator('[data-testid="conversation-list"]').isVisible()).toBe(true);
    await context.close();
  });
});
