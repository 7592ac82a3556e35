// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import AdminBotsView from '../../web/src/views/admin/AdminBotsView.vue';
import { mockFetch } from './helpers';

const at = '2026-11-27T08:00:00.000Z';
// Saved before the frustration and complaint settings existed.
const bot = {
  id: 'b1',
  slug: 'hr',
  name: 'HR Assistant',
  description: '',
  greeting: '',
  language: 'auto',
  collectionIds: [],
  prompts: {},
  model: {},
  handoff: {},
  enabled: true,
  createdAt: at,
  updatedAt: at,
};

/** The input of the dialog's field labelled `text` (the dialog is teleported to the body). */
function field(text: string): HTMLInputElement {
  const label = [...document.body.querySelectorAll('label')].find((l) => l.textContent?.includes(text));
  if (!label) throw new Error(`no field labelled ${text}`);
  return label.querySelector('input')!;
}

describe('AdminBotsView', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it("shows a bot's frustration and complaint handoff settings, the server's defaults when unsaved, and saves them", async () => {
    setLocale('en');
    const { calls } = mockFetch({
      'GET /api/bots': { body: { items: [bot], next: null } },
      'GET /api/collections': { body: { items: [], next: null } },
      'PATCH /api/bots/b1': { body: { bot } },
    });
    const wrapper = mount(AdminBotsView, { global: { plugins: [i18nPlugin] }, attachTo: document.body });
    await flushPromises();
    await wrapper.find('tbody button').trigger('click');
    await flushPromises();

    expect(field('Hand off when the user sounds frustrated').checked).toBe(true);
    expect(field('Frustration threshold').value).toBe('0.7');
    expect(field('Hand off a complaint').checked).toBe(true);
    expect(field('Complaint threshold').value).toBe('0.7');

    field('Hand off when the user sounds frustrated').click();
    await flushPromises();
    expect(field('Frustration threshold').disabled).toBe(true);
    const complaint = field('Complaint threshold');
    complaint.value = '0.5';
    complaint.dispatchEvent(new Event('input'));
    document.body.querySelector('#bot-form')!.dispatchEvent(new Event('submit', { cancelable: true }));
    await flushPromises();

    const patch = calls.find((c) => c.method === 'PATCH');
    expect((patch?.body as { handoff: unknown }).handoff).toMatchObject({
      onFrustration: false,
      frustrationThreshold: 0.7,
      onComplaint: true,
      complaintThreshold: 0.5,
    });
    wrapper.unmount();
  });

  it('labels them in Chinese', async () => {
    setLocale('zh-CN');
    mockFetch({
      'GET /api/bots': { body: { items: [bot], next: null } },
      'GET /api/collections': { body: { items: [], next: null } },
    });
    const wrapper = mount(AdminBotsView, { global: { plugins: [i18nPlugin] }, attachTo: document.body });
    await flushPromises();
    await wrapper.find('tbody button').trigger('click');
    await flushPromises();
    expect(field('用户情绪不满时转人工').checked).toBe(true);
    expect(field('投诉阈值').value).toBe('0.7');
    wrapper.unmount();
  });
});
