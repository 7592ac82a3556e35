// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import TokensView from '../../web/src/views/TokensView.vue';
import { mockFetch } from './helpers';

const used = {
  id: 't1',
  name: 'nightly export',
  prefix: 'enp_abcdefgh',
  scopes: ['chat', 'api'],
  createdAt: '2026-11-01T08:00:00.000Z',
  lastUsedAt: '2026-12-02T09:30:00.000Z',
  expiresAt: '2099-01-30T08:00:00.000Z',
};
const idle = { ...used, id: 't2', name: 'chat bot', scopes: ['chat'], lastUsedAt: null };

describe('TokensView', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });
  afterEach(() => {
    document.body.innerHTML = '';
  });

  it('lists each token with its scopes, expiry and last use, in English and Chinese', async () => {
    setLocale('en');
    mockFetch({ 'GET /api/tokens': { body: { items: [used, idle], next: null } } });
    const wrapper = mount(TokensView, { global: { plugins: [i18nPlugin] } });
    await flushPromises();
    const rows = wrapper.findAll('[data-testid="token-row"]').map((r) => r.text());
    expect(rows[0]).toContain('Chat (/v1), REST API (/api)');
    expect(rows[0]).toContain('2099');
    expect(rows[0]).not.toContain('Not used yet');
    expect(rows[1]).toContain('Not used yet');

    setLocale('zh-CN');
    await flushPromises();
    expect(wrapper.findAll('[data-testid="token-row"]')[1]!.text()).toContain('尚未使用');
    setLocale('en');
  });

  it('creates a token with the chosen scopes and expiry, and shows its secret once', async () => {
    setLocale('en');
    const { calls } = mockFetch({
      'GET /api/tokens': { body: { items: [], next: null } },
      'POST /api/tokens': { status: 201, body: { token: 'enp_secret-value', apiToken: used } },
    });
    const wrapper = mount(TokensView, { global: { plugins: [i18nPlugin] } });
    await flushPromises();
    await wrapper.find('input[type="text"]').setValue('nightly export');
    await wrapper.find('input[value="api"]').setValue(true);
    await wrapper.find('select').setValue('30');
    await wrapper.find('form').trigger('submit');
    await flushPromises();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({
      name: 'nightly export',
      scopes: ['chat', 'api'],
      expiresInDays: 30,
    });
    expect(wrapper.find('[data-testid="token-secret"]').text()).toContain('enp_secret-value');
  });
});
