import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Locator, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyPng } from '../support/images.ts';
import { signIn, startWorld, type E2eWorld } from './support/app.ts';
import { screenshot } from './support/browser.ts';
import { LOCALES, setLanguage } from './support/pages.ts';

const SIZES = [
  { tag: 'phone', width: 390, height: 844 },
  { tag: 'desktop', width: 1440, height: 900 },
] as const;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The page at both sizes in both languages, `focus` scrolled into view; leaves it in English on a laptop. */
async function shots(page: Page, name: string, focus?: Locator) {
  for (const locale of LOCALES) {
    await setLanguage(page, locale);
    for (const size of SIZES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.waitForTimeout(150);
      await focus?.evaluate((el) => el.scrollIntoView({ block: 'center' }));
      await screenshot(page, `web19-attachments-${name}-${size.tag}-${locale}`);
      // pending files scroll within their row: the page itself never scrolls sideways
      expect(await page.evaluate('document.scrollingElement.scrollWidth - window.innerWidth')).toBeLessThanOrEqual(0);
    }
  }
  await setLanguage(page, 'en');
}

/**
 * Pastes a file into the composer as the clipboard would (a screenshot copied to the clipboard).
 * Runs in the page, so it is a string: this file is compiled without the DOM types.
 */
const pasteFile = (page: Page, file: { name: string; type: string; bytes: Buffer }) =>
  page.evaluate(`(() => {
    const bytes = Uint8Array.from(${JSON.stringify([...file.bytes])});
    const data = new DataTransfer();
    data.items.add(new File([bytes], ${JSON.stringify(file.name)}, { type: ${JSON.stringify(file.type)} }));
    document.querySelector('[data-testid="composer-input"]').dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
    );
  })()`);

/** Drops a file on the conversation (anywhere on it: here, on the message list). */
const dropFile = (page: Page, file: { name: string; type: string; bytes: Buffer }) =>
  page.evaluate(`(() => {
    const bytes = Uint8Array.from(${JSON.stringify([...file.bytes])});
    const data = new DataTransfer();
    data.items.add(new File([bytes], ${JSON.stringify(file.name)}, { type: ${JSON.stringify(file.type)} }));
    const target = document.querySelector('.message-list') ?? document.querySelector('[data-testid="composer-input"]');
    for (const type of ['dragenter', 'dragover', 'drop'])
      target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
  })()`);

const naturalWidth = (el: unknown) => (el as { naturalWidth: number }).naturalWidth;

describe('attachments in the composer (issue 19)', () => {
  let world: E2eWorld;

  beforeAll(async () => {
    // 1 MB: a "too large" file stays small enough to build in the test.
    world = await startWorld({ ATTACHMENT_MAX_MB: '1' });
  }, 180_000);

  afterAll(async () => {
    await world?.close();
  });

  /** A support conversation the employee started and the agent claimed. */
  async function claimedConversation(employeeName: string, agentName: string) {
    const employee = await world.user('employee', employeeName);
    const agent = await world.user('agent', agentName);
    const created = await world.api(employee, 'POST', '/api/conversations', { kind: 'support' });
    const id: string = created.body.conversation.id;
    await world.api(employee, 'POST', `/api/conversations/${id}/messages`, { body: 'My expense claim was rejected.' });
    expect((await world.api(agent, 'POST', `/api/conversations/${id}/claim`)).status).toBe(200);
    return { employee, agent, id };
  }

  it('sends a picked file and a pasted image from the composer; the agent downloads both byte for byte', async () => {
    const { employee, agent, id } = await claimedConversation('Emma Attach', 'Aiden Attach');
    const pdf = {
      name: 'expense-report.pdf',
      type: 'application/pdf',
      bytes: Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(120_000)]),
    };
    const png = {
      name: 'image.png',
      type: 'image/png',
      bytes: tinyPng({ width: 240, height: 135, rgb: [200, 60, 40] }),
    };

    const page = await (await world.browser.newContext()).newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(page, world.app.url, employee);
    await page.goto(`${world.app.url}/c/${id}`);
    const composer = page.locator('.message-composer');
    const send = page.locator('[data-testid="composer-send"]');

    // The picker: the upload is held at the server's door, so the file is seen uploading, with its
    // progress, and the message cannot leave without it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/conversations/*/attachments', async (route) => {
      await held;
      await route.continue();
    });
    await page.locator('[data-testid="attach-input"]').setInputFiles({
      name: pdf.name,
      mimeType: pdf.type,
      buffer: pdf.bytes,
    });
    const pending = page.locator('[data-testid="pending-attachment"]');
    await expect.poll(() => pending.getAttribute('data-state')).toBe('uploading');
    expect(await pending.getByRole('progressbar').count()).toBe(1);
    await page.locator('[data-testid="composer-input"]').fill('The report and a screenshot of the error.');
    expect(await send.isDisabled()).toBe(true);
    release();
    await expect.poll(() => pending.getAttribute('data-state')).toBe('ready');
    await page.unroute('**/api/conversations/*/attachments');

    // The clipboard: a pasted screenshot joins it, with a preview of the image itself.
    await pasteFile(page, png);
    await expect.poll(() => pending.count()).toBe(2);
    await expect.poll(() => pending.nth(1).getAttribute('data-state')).toBe('ready');
    await expect.poll(() => page.locator('[data-testid="pending-preview"]').evaluate(naturalWidth)).toBe(240);
    expect(await pending.nth(0).innerText()).toContain(pdf.name);
    await shots(page, 'composer-pending', composer);

    // A dropped file can be removed again before sending: it does not go with the message.
    await dropFile(page, { name: 'notes.txt', type: 'text/plain', bytes: Buffer.from('not this one') });
    await expect.poll(() => pending.count()).toBe(3);
    await expect.poll(() => pending.nth(2).getAttribute('data-state')).toBe('ready');
    await pending.nth(2).getByRole('button', { name: 'Remove notes.txt' }).click();
    await expect.poll(() => pending.count()).toBe(1 + 1);

    // The agent has the conversation open while the message goes.
    const agentPage = await (await world.browser.newContext()).newPage();
    await agentPage.setViewportSize({ width: 1440, height: 900 });
    await signIn(agentPage, world.app.url, agent);
    await agentPage.goto(`${world.app.url}/agent/c/${id}`);
    await expect.poll(() => agentPage.locator('[data-testid="message"]').count()).toBe(1);

    await send.click();
    await expect.poll(() => pending.count()).toBe(0);
    const sent = async () => {
      const items: { body: string; attachments: { filename: string; mime: string; size: number }[] }[] = (
        await world.api(employee, 'GET', `/api/conversations/${id}/messages`)
      ).body.items;
      return items.at(-1)!;
    };
    await expect.poll(async () => (await sent()).attachments.map((a) => a.filename)).toEqual([pdf.name, png.name]);
    expect((await sent()).body).toBe('The report and a screenshot of the error.');
    expect((await sent()).attachments.map((a) => a.size)).toEqual([pdf.bytes.length, png.bytes.length]);

    // The agent's side, live: download links with name and size, the image shown inline.
    const links = agentPage.locator('[data-testid="attachment-link"]');
    await expect.poll(() => links.count()).toBe(2);
    expect(await links.nth(0).innerText()).toContain(pdf.name);
    expect(await links.nth(0).innerText()).toContain('117 kB');
    const inline = agentPage.locator('[data-testid="attachment-image"]');
    await expect.poll(() => inline.evaluate(naturalWidth)).toBe(240);
    // …loaded with the reader's session, not from a public address
    expect(await inline.getAttribute('src')).toMatch(/^blob:/);

    for (const [index, file] of [pdf, png].entries()) {
      const [download] = await Promise.all([agentPage.waitForEvent('download'), links.nth(index).click()]);
      expect(download.suggestedFilename()).toBe(file.name);
      const path = await download.path();
      expect(sha256(await readFile(path!))).toBe(sha256(file.bytes));
    }
    await shots(agentPage, 'agent-received', agentPage.locator('[data-testid="attachment"]').first());
    await shots(page, 'employee-sent', page.locator('[data-testid="attachment"]').first());

    // In Chinese the link speaks Chinese
    await setLanguage(agentPage, 'zh-CN');
    expect(await links.nth(0).getAttribute('aria-label')).toContain('下载 expense-report.pdf');
    await page.context().close();
    await agentPage.context().close();
  }, 180_000);

  it('refuses a file that is too large or of a refused type before uploading it, and says why the server refused one', async () => {
    const { employee, id } = await claimedConversation('Eli Refused', 'Ava Refused');
    const page = await (await world.browser.newContext()).newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(page, world.app.url, employee);
    await page.goto(`${world.app.url}/c/${id}`);
    const uploads: Request[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/attachments')) uploads.push(request);
    });

    await page.locator('[data-testid="attach-input"]').setInputFiles([
      { name: 'huge-scan.txt', mimeType: 'text/plain', buffer: Buffer.alloc(1024 * 1024 + 512 * 1024, 0x61) },
      { name: 'setup.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ not really a program') },
    ]);
    const refused = page.locator('[data-testid="attachment-refused"]');
    await expect.poll(() => refused.innerText()).toContain('“huge-scan.txt” is 1.5 MB: files can be at most 1 MB.');
    expect(await refused.innerText()).toContain('“setup.exe” cannot be attached. Allowed: .png, .jpg');
    expect(await page.locator('[data-testid="pending-attachment"]').count()).toBe(0);
    expect(uploads).toHaveLength(0);
    await setLanguage(page, 'zh-CN');
    await expect.poll(() => refused.innerText()).toContain('“huge-scan.txt”大小为 1.5 MB，附件不能超过 1 MB。');
    expect(await refused.innerText()).toContain('无法添加“setup.exe”');
    await setLanguage(page, 'en');
    expect(uploads).toHaveLength(0);

    // A file that looks right but is not what it claims: the server refuses it, and the composer says so in words.
    await page.locator('[data-testid="attach-input"]').setInputFiles({
      name: 'photo.png',
      mimeType: 'image/png',
      buffer: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300, 0)]),
    });
    const failed = page.locator('[data-testid="pending-attachment"][data-state="failed"]');
    await expect.poll(() => failed.count()).toBe(1);
    expect(uploads).toHaveLength(1);
    expect(await failed.innerText()).toContain('The server refused this file: this kind of file cannot be attached.');
    await setLanguage(page, 'zh-CN');
    await expect.poll(() => failed.innerText()).toContain('服务器拒绝了此文件：不支持此类文件。');
    await setLanguage(page, 'en');
    // Nothing to send: the refused file does not count
    expect(await page.locator('[data-testid="composer-send"]').isDisabled()).toBe(true);
    await page.locator('[data-testid="attach-input"]').setInputFiles({
      name: 'setup.exe',
      mimeType: 'application/x-msdownload',
      buffer: Buffer.from('MZ'),
    });
    await expect.poll(() => refused.count()).toBe(1);
    await shots(page, 'composer-refused', page.locator('.message-composer'));
    await page.context().close();
  }, 120_000);

  it('serves a file only to those who may read it: an internal note’s file to staff alone', async () => {
    const { employee, agent, id } = await claimedConversation('Erin Note', 'Abe Note');
    const colleague = await world.user('agent', 'Cleo Colleague');
    const outsider = await world.user('employee', 'Olly Outsider');
    const page = await (await world.browser.newContext()).newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(page, world.app.url, agent);
    await page.goto(`${world.app.url}/agent/c/${id}`);
    await page.locator('[data-testid="internal-toggle"]').check();
    await page.locator('[data-testid="attach-input"]').setInputFiles({
      name: 'fraud-check.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Receipts look edited; ask finance.'),
    });
    await expect
      .poll(() => page.locator('[data-testid="pending-attachment"]').getAttribute('data-state'))
      .toBe('ready');
    await page.locator('[data-testid="composer-send"]').click();
    const note = async () => {
      const items: { internal: boolean; attachments: { id: string }[] }[] = (
        await world.api(agent, 'GET', `/api/conversations/${id}/messages`)
      ).body.items;
      return items.find((m) => m.internal && m.attachments.length);
    };
    await expect.poll(async () => (await note())?.attachments.length).toBe(1);
    const fileId = (await note())!.attachments[0]!.id;
    const status = async (user: { token: string }) =>
      (
        await fetch(`${world.app.url}/api/attachments/${fileId}`, {
          headers: { authorization: `Bearer ${user.token}` },
        })
      ).status;
    expect(await status(agent)).toBe(200);
    expect(await status(colleague)).toBe(200);
    expect(await status(employee)).toBe(404);
    expect(await status(outsider)).toBe(404);
    // A colleague who has not joined may attach a file to an internal note too (staff read the queue)
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('Second opinion: fine.')], { type: 'text/plain' }), 'opinion.txt');
    const upload = await fetch(`${world.app.url}/api/conversations/${id}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${colleague.token}` },
      body: form,
    });
    expect(upload.status).toBe(201);
    const uploaded = ((await upload.json()) as { attachment: { id: string } }).attachment.id;
    const posted = await world.api(colleague, 'POST', `/api/conversations/${id}/messages`, {
      body: 'See my note.',
      internal: true,
      attachmentIds: [uploaded],
    });
    expect(posted.status).toBe(201);
    expect(await status(employee)).toBe(404);
    // …and the employee's page shows neither the notes nor their files
    const employeePage = await (await world.browser.newContext()).newPage();
    await signIn(employeePage, world.app.url, employee);
    await employeePage.goto(`${world.app.url}/c/${id}`);
    await expect.poll(() => employeePage.locator('[data-testid="message"]').count()).toBeGreaterThan(0);
    expect(await employeePage.locator('[data-testid="attachment"]').count()).toBe(0);
    await page.context().close();
    await employeePage.context().close();
  }, 90_000);
});
