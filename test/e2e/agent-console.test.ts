import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBot } from '../support/fixtures.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';
import { setLanguage } from './support/pages.ts';

describe('the agent console (issue 19)', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it('fills a canned reply from /, switches presence, tells the history in sentences, and keeps each composer state honest', async () => {
    const admin = await world.user('admin', 'Ada Admin');
    const alex = await world.user('employee', 'Alex Chen');
    const bo = await world.user('agent', 'Bo Agent');
    const cy = await world.user('agent', 'Cy Agent');
    const finance = (await world.api(admin, 'POST', '/api/groups', { name: 'Finance' })).body.group;
    expect((await world.api(admin, 'PUT', `/api/groups/${finance.id}/members/${alex.id}`)).status).toBe(204);
    const shared = await world.api(admin, 'POST', '/api/canned-replies', {
      shortcut: 'hello',
      body: 'Hello {name}, this is {agent}. How can I help?',
      shared: true,
    });
    expect(shared.status).toBe(201);
    expect((await world.api(bo, 'POST', '/api/canned-replies', { shortcut: 'bye', body: 'Bye {name}!' })).status).toBe(
      201,
    );

    // An earlier request Alex made (resolved by Cy), one Cy is handling now, and the one Bo will take.
    const earlier = (await world.api(alex, 'POST', '/api/conversations', { kind: 'support' })).body.conversation;
    await world.api(alex, 'POST', `/api/conversations/${earlier.id}/messages`, {
      body: 'My badge does not open the door.',
    });
    expect((await world.api(cy, 'POST', `/api/conversations/${earlier.id}/claim`)).status).toBe(200);
    expect((await world.api(cy, 'POST', `/api/conversations/${earlier.id}/resolve`)).status).toBe(200);
    const cysOwn = (await world.api(alex, 'POST', '/api/conversations', { kind: 'support' })).body.conversation;
    expect((await world.api(cy, 'POST', `/api/conversations/${cysOwn.id}/claim`)).status).toBe(200);
    const bot = await newBot(world.app);
    const chat = (await world.api(alex, 'POST', '/api/conversations', { botId: bot })).body.conversation;
    await world.api(alex, 'POST', `/api/conversations/${chat.id}/messages`, { body: 'How do I claim travel costs?' });
    expect(
      (await world.api(alex, 'POST', `/api/conversations/${chat.id}/handoff`, { reason: 'user_request' })).status,
    ).toBe(200);

    const page = await (await world.browser.newContext()).newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(page, world.app.url, bo);
    await page.goto(`${world.app.url}/agent`);

    // presence: the switch shows what the server holds, changes it, and the change survives a reload
    const presence = page.locator('[data-testid="presence-switch"]');
    await expect.poll(() => presence.innerText()).toBe('Available');
    await presence.click();
    await expect.poll(() => presence.innerText()).toBe('Away');
    expect((await world.api(bo, 'GET', '/api/agents/me')).body.agent.available).toBe(false);
    await page.reload();
    await expect.poll(() => presence.innerText()).toBe('Away');
    expect(await presence.getAttribute('aria-checked')).toBe('false');
    await presence.click();
    await expect.poll(() => presence.innerText()).toBe('Available');
    expect((await world.api(bo, 'GET', '/api/agents/me')).body.agent.available).toBe(true);

    // a personal canned reply, added in the console's own dialog
    await page.locator('[data-testid="manage-canned"]').click();
    const dialog = page.locator('[data-testid="canned-reply-dialog"]');
    await expect.poll(() => dialog.innerText()).toContain('/hello');
    await dialog.locator('input[name="shortcut"]').fill('thanks');
    await dialog.locator('textarea[name="body"]').fill('Thanks {name}, glad I could help.');
    await screenshot(page, 'web19-agent-canned-dialog-desktop-en');
    await dialog.locator('[data-testid="canned-save"]').click();
    await expect.poll(() => dialog.innerText()).toContain('/thanks');
    expect(
      (await world.api(bo, 'GET', '/api/canned-replies')).body.items.map((c: { shortcut: string }) => c.shortcut),
    ).toEqual(['bye', 'hello', 'thanks']);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count()).toBe(0);

    // queued: the way to reply is to claim it; the customer card knows Alex
    await page.goto(`${world.app.url}/agent/c/${chat.id}`);
    const state = page.locator('[data-testid="composer-state"]');
    await expect.poll(() => state.innerText()).toContain('Waiting in the queue. Claim it to reply.');
    // Before claiming, only an internal note for colleagues can be written (no toggle to reply).
    const noteInput = page.locator('[data-testid="composer-input"]');
    expect(await noteInput.getAttribute('placeholder')).toContain('Internal note for colleagues');
    expect(await page.locator('[data-testid="internal-toggle"]').count()).toBe(0);
    await noteInput.fill('Alex asked about this last week too.');
    await noteInput.press('Enter');
    const note = page.locator('[data-testid="message"].internal', { hasText: 'Alex asked about this last week too.' });
    await note.waitFor();
    const card = page.locator('[data-testid="customer-card"]');
    await expect.poll(() => card.innerText()).toContain('Alex Chen');
    const cardText = await card.innerText();
    expect(cardText).toContain(alex.email);
    expect(cardText).toContain('Finance');
    expect(await card.locator(`a[href="/agent/c/${earlier.id}"]`).count()).toBe(1);
    expect(await card.locator(`a[href="/agent/c/${cysOwn.id}"]`).count()).toBe(1);
    // how long it waits, in words (no clock glyph the fonts lack)
    expect(await page.locator('[data-testid="queue-item"]').first().innerText()).toMatch(/Waiting for \d+ s/);
    await screenshot(page, 'web19-agent-queued-desktop-en');

    // mine: claim, then `/` offers the canned replies; arrows, Esc and Enter work from the keyboard
    await page.locator('[data-testid="claim"]').click();
    const input = page.locator('[data-testid="composer-input"]');
    await input.waitFor();
    await input.focus();
    await page.keyboard.type('/');
    const menu = page.locator('[data-testid="canned-reply-menu"]');
    const options = menu.locator('[role="option"]');
    await expect.poll(() => options.count()).toBe(3);
    expect(await options.nth(0).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowDown');
    expect(await options.nth(1).getAttribute('aria-selected')).toBe('true');
    expect(await options.nth(1).innerText()).toContain('/hello');
    // the reply box tells assistive technology which option it is on
    expect(await input.getAttribute('aria-activedescendant')).toBe(await options.nth(1).getAttribute('id'));
    await page.keyboard.press('Escape');
    await expect.poll(() => menu.count()).toBe(0);
    expect(await input.inputValue()).toBe('/');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('/hel');
    await expect.poll(() => options.count()).toBe(1);
    expect(await options.first().innerText()).toContain('Hello Alex Chen, this is Bo Agent.');
    await screenshot(page, 'web19-agent-canned-menu-desktop-en');
    await page.keyboard.press('Enter');
    await expect.poll(() => input.inputValue()).toBe('Hello Alex Chen, this is Bo Agent. How can I help?');
    expect(await menu.count()).toBe(0);
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await world.api(alex, 'GET', `/api/conversations/${chat.id}/messages`)).body.items.at(-1).body)
      .toBe('Hello Alex Chen, this is Bo Agent. How can I help?');

    // the history in sentences, in English and in Chinese
    const history = page.locator('[data-testid="history"]');
    await expect.poll(() => history.innerText()).toContain('Claimed by Bo Agent');
    expect(await history.innerText()).toContain('Alex Chen handed this to the queue (asked for a person)');
    await setLanguage(page, 'zh-CN');
    await expect.poll(() => history.innerText()).toContain('Alex Chen 将会话转入排队（要求人工服务）');
    expect(await history.innerText()).toContain('Bo Agent 接入了会话');
    expect(await history.innerText()).not.toMatch(/handoff|claim|→/);
    await screenshot(page, 'web19-agent-console-desktop-zh-CN');
    await setLanguage(page, 'en');
    await screenshot(page, 'web19-agent-console-desktop-en');

    // resolved: it says so and offers no claim and no reply box
    await page.locator('[data-testid="resolve"]').click();
    await expect.poll(() => state.innerText()).toContain('This conversation is resolved.');
    expect(await input.count()).toBe(0);
    const main = await page.locator('.agent-conversation .main').innerText();
    expect(main).not.toContain('Claim');
    await expect.poll(() => history.innerText()).toContain('Resolved by Bo Agent');
    await screenshot(page, 'web19-agent-resolved-desktop-en');

    // someone else's: no reply, saying whose it is (an agent may not take it over); a note for Cy is possible
    await page.goto(`${world.app.url}/agent/c/${cysOwn.id}`);
    await expect.poll(() => state.innerText()).toContain('Cy Agent is handling this conversation.');
    expect(await page.locator('[data-testid="composer-input"]').getAttribute('placeholder')).toContain('Internal note');
    expect(await page.locator('[data-testid="internal-toggle"]').count()).toBe(0);
    expect(await page.locator('[data-testid="take-over"]').count()).toBe(0);
  });

  it('keeps the messages on a phone, with the context in a drawer', async () => {
    const alex = await world.user('employee', 'Alex Phone');
    const bo = await world.user('agent', 'Bo Phone');
    const chat = (await world.api(alex, 'POST', '/api/conversations', { kind: 'support' })).body.conversation;
    for (const body of ['My screen flickers.', 'It started after the update.', 'Can someone help?'])
      await world.api(alex, 'POST', `/api/conversations/${chat.id}/messages`, { body });
    expect((await world.api(bo, 'POST', `/api/conversations/${chat.id}/claim`)).status).toBe(200);

    const page = await (await world.browser.newContext()).newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(page, world.app.url, bo);
    for (const locale of ['en', 'zh-CN'] as const) {
      await page.goto(`${world.app.url}/agent/c/${chat.id}`);
      await setLanguage(page, locale);
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.locator('[data-testid="customer-card"]').waitFor();
      await screenshot(page, `web19-agent-console-wide-${locale}`);

      await page.setViewportSize({ width: 390, height: 844 });
      const context = page.locator('[data-testid="agent-context"]');
      await expect.poll(() => context.isVisible()).toBe(false);
      const list = await page.locator('.message-list').boundingBox();
      // The messages keep most of the screen (the header and the composer take the rest).
      expect(list!.height).toBeGreaterThan(844 * 0.55);
      await screenshot(page, `web19-agent-console-phone-${locale}`);

      await page.locator('[data-testid="context-toggle"]').click();
      await expect.poll(() => context.isVisible()).toBe(true);
      await expect.poll(() => context.innerText()).toContain('Alex Phone');
      const drawer = await context.boundingBox();
      expect(drawer!.x + drawer!.width).toBeLessThanOrEqual(390);
      const width = await page.evaluate('document.scrollingElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(390);
      await screenshot(page, `web19-agent-drawer-phone-${locale}`);
      await page.locator('.close-drawer').click();
      await expect.poll(() => context.isVisible()).toBe(false);
    }
  });
});
