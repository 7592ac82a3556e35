import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePdf } from '../knowledge/fixtures.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';
import { startFlakyNetwork } from './support/flaky-network.ts';
import { knowledgeBot } from './support/knowledge.ts';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Live behaviour: streamed cited answers, the human handoff with context, reconnects, ingestion progress. */
describe('the web app, live', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    world = await startWorld();
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  it('answers with a cited answer, opens the citation, then hands over to an agent who sees the context', async () => {
    const admin = await world.user('admin', 'Kim Admin');
    const employee = await world.user('employee', 'Eva Employee');
    const agent = await world.user('agent', 'Aaron Agent');
    await knowledgeBot(world, admin, {
      title: 'Employee Handbook',
      text: 'Annual leave. Every full-time employee receives fifteen working days of annual leave per calendar year. Unused annual leave may be carried over until March.\n\nSick leave. Sick leave requires a doctor note after three days.',
    });

    const page = await (await world.browser.newContext()).newPage();
    await signIn(page, world.app.url, employee);
    await page.locator('[data-testid="new-chat"]').click();
    await page.locator('[data-testid="bot-option"]', { hasText: 'HR Assistant' }).click();
    await page.waitForURL(/\/c\//);
    await expect
      .poll(() => page.locator('[data-testid="message"]').first().innerText())
      .toContain('Ask me about HR policies');

    await page.locator('[data-testid="composer-input"]').fill('How many days of annual leave do I get?');
    await page.locator('[data-testid="composer-send"]').click();
    const answer = page.locator('[data-testid="message"].bot').last();
    await expect
      .poll(() => answer.locator('[data-testid="citation-chip"]').count(), { timeout: 20_000 })
      .toBeGreaterThan(0);
    await expect.poll(() => answer.innerText()).toContain('fifteen working days');
    await screenshot(page, '20-cited-answer');

    await answer.locator('[data-testid="citation-chip"]').first().click();
    const panel = page.locator('[data-testid="citation-panel"]');
    await expect.poll(() => panel.innerText()).toContain('Employee Handbook');
    await expect.poll(() => panel.innerText()).toContain('annual leave');
    await screenshot(page, '21-citation-panel');
    await page.keyboard.press('Escape');
    await expect.poll(() => panel.count()).toBe(0);

    // 👍 with a comment
    await answer.getByRole('button', { name: 'Helpful', exact: true }).click();
    await answer.locator('input[type="text"]').fill('Clear, thanks');
    await answer.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => answer.innerText()).toContain('Thanks for the feedback');

    // the agent is watching the queue when the employee asks for a person
    const agentPage = await (await world.browser.newContext()).newPage();
    await signIn(agentPage, world.app.url, agent);
    await agentPage.waitForURL(/\/agent/);
    await page.locator('[data-testid="handoff-button"]').click();
    await expect.poll(() => page.locator('[data-testid="queue-status"]').innerText()).toContain('number 1');
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const item = agentPage.locator(`a[href="/agent/c/${id}"]`);
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(1);
    await item.click();
    await expect
      .poll(() => agentPage.locator('[data-testid="handoff-reason"]').innerText())
      .toBe('The user asked for a person');
    await expect
      .poll(() => agentPage.locator('.agent-context-panel').innerText())
      .toContain('How many days of annual leave');
    await agentPage.locator('[data-testid="claim"]').click();
    await agentPage.locator('[data-testid="resolve"]').waitFor();
    const suggested = agentPage.locator('[data-testid="use-suggestion"]');
    if (await suggested.count()) {
      await suggested.click();
      expect(await agentPage.locator('[data-testid="composer-input"]').inputValue()).not.toBe('');
    }
    await agentPage
      .locator('[data-testid="composer-input"]')
      .fill('Hi Eva, yes: fifteen days, and you can carry them over until March.');
    await agentPage.locator('[data-testid="composer-send"]').click();
    await screenshot(agentPage, '22-agent-context');
    await expect
      .poll(() => page.locator('[data-testid="message"]', { hasText: 'carry them over until March' }).count(), {
        timeout: 10_000,
      })
      .toBe(1);
    await screenshot(page, '23-employee-agent-reply');
  });

  it('shows reconnecting when the network drops and catches up without a reload', async () => {
    const employee = await world.user('employee', 'Nina Network');
    const colleague = await world.user('employee', 'Ned Colleague');
    const direct = await world.api(colleague, 'POST', '/api/conversations', { kind: 'direct', userId: employee.id });
    const id: string = direct.body.conversation.id;
    await world.api(colleague, 'POST', `/api/conversations/${id}/messages`, { body: 'First message', clientId: 'n-1' });

    const network = await startFlakyNetwork(world.app.url);
    try {
      const page = await (await world.browser.newContext()).newPage();
      await signIn(page, network.url, employee);
      await page.goto(`${network.url}/c/${id}`);
      await expect.poll(() => page.locator('[data-testid="message"]').count()).toBe(1);
      // the socket is up once a message arrives live
      await world.api(colleague, 'POST', `/api/conversations/${id}/messages`, {
        body: 'Are you there?',
        clientId: 'n-live',
      });
      await expect
        .poll(() => page.locator('[data-testid="message"]', { hasText: 'Are you there?' }).count(), { timeout: 10_000 })
        .toBe(1);

      network.cut();
      await expect
        .poll(() => page.locator('[data-testid="connection-banner"]').innerText(), { timeout: 10_000 })
        .toContain('reconnecting');
      await screenshot(page, '24-reconnecting');
      await world.api(colleague, 'POST', `/api/conversations/${id}/messages`, {
        body: 'Sent while you were offline',
        clientId: 'n-2',
      });
      network.restore();

      await expect
        .poll(() => page.locator('[data-testid="message"]', { hasText: 'Sent while you were offline' }).count(), {
          timeout: 20_000,
        })
        .toBe(1);
      await expect.poll(() => page.locator('[data-testid="connection-banner"]').count(), { timeout: 10_000 }).toBe(0);
      // and live delivery works again on the new socket
      await world.api(colleague, 'POST', `/api/conversations/${id}/messages`, {
        body: 'And live again',
        clientId: 'n-3',
      });
      await expect
        .poll(() => page.locator('[data-testid="message"]', { hasText: 'And live again' }).count(), { timeout: 10_000 })
        .toBe(1);
    } finally {
      await network.close();
    }
  });

  it('uploads PDFs by file picker and shows their progress live until they are ready', async () => {
    const admin = await world.user('admin', 'Uma Uploader');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-e2e-'));
    const files = [path.join(dir, 'travel-policy.pdf'), path.join(dir, 'expenses.pdf')];
    await writeFile(
      files[0]!,
      makePdf([['Travel policy', 'Book trains in second class.'], ['Flights need approval by the department head.']]),
    );
    await writeFile(files[1]!, makePdf([['Expenses', 'Submit receipts within thirty days.']]));
    try {
      const page = await (await world.browser.newContext()).newPage();
      await signIn(page, world.app.url, admin);
      await page.getByRole('link', { name: 'Knowledge', exact: true }).click();
      await page.locator('[data-testid="collection-name"]').fill('Policies');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.waitForURL(/\/admin\/knowledge\/[0-9a-f-]+/);
      await page.locator('[data-testid="file-input"]').setInputFiles(files);
      const rows = page.locator('[data-testid="document-row"]');
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
      await screenshot(page, '25-upload-progress');
      await expect
        .poll(() => page.locator('[data-testid="document-status"]').allInnerTexts(), { timeout: 30_000 })
        .toEqual(['Ready', 'Ready']);
      await screenshot(page, '26-upload-ready');
      await rows.filter({ hasText: 'travel-policy' }).getByRole('button', { name: 'Chunks' }).click();
      await expect.poll(() => page.locator('[data-testid="chunk-list"]').innerText()).toContain('second class');
      await screenshot(page, '27-chunk-preview');
      await page.keyboard.press('Escape');

      // the search playground shows each hit's vector rank, text rank and fused score
      await page.getByRole('link', { name: 'Search playground' }).click();
      await page.locator('[data-testid="search-query"]').fill('second class trains');
      await page.locator('[data-testid="admin-search"] form button[type="submit"]').click();
      const firstHit = page.locator('[data-testid="search-results"] tbody tr').first();
      await expect.poll(() => firstHit.innerText(), { timeout: 10_000 }).toContain('second class');
      const cells = await firstHit.locator('td').allInnerTexts();
      expect(cells[2]).toMatch(/^\d+/); // vector rank
      expect(cells[3]).toMatch(/^\d+/); // text rank
      expect(Number(cells[4])).toBeGreaterThan(0); // fused score
      await screenshot(page, '28-search-playground');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
