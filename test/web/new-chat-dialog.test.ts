// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import NewChatDialog from '../../web/src/components/NewChatDialog.vue';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import { useAuthStore } from '../../web/src/stores/auth';
import { conversation, me, mockFetch } from './helpers';

function router() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p/>' } },
      { path: '/c/:id', name: 'chat-conversation', component: { template: '<p/>' } },
    ],
  });
}

describe('NewChatDialog', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    setLocale('en');
    document.body.innerHTML = '';
    useAuthStore().user = { ...me };
  });

  it('shows an empty state when there are no bots (or no bots API yet) and still offers a person', async () => {
    mockFetch({});
    const wrapper = mount(NewChatDialog, {
      props: { open: true },
      global: { plugins: [router(), i18nPlugin] },
      attachTo: document.body,
    });
    await flushPromises();
    expect(document.body.textContent).toContain('No assistants are available yet');
    expect(document.querySelector('[data-testid="start-support"]')).not.toBeNull();
    wrapper.unmount();
  });

  it('starts a chat with the chosen bot and opens it', async () => {
    const { calls } = mockFetch({
      'GET /api/bots': {
        body: {
          items: [{ id: 'b1', slug: 'hr', name: 'HR Assistant', description: 'Leave, pay, benefits' }],
          next: null,
        },
      },
      'POST /api/conversations': { status: 201, body: { conversation: conversation({ id: 'c9' }) } },
    });
    const r = router();
    const wrapper = mount(NewChatDialog, {
      props: { open: true },
      global: { plugins: [r, i18nPlugin] },
      attachTo: document.body,
    });
    await flushPromises();
    const option = document.querySelector<HTMLButtonElement>('[data-testid="bot-option"]')!;
    expect(option.textContent).toContain('HR Assistant');
    option.click();
    await flushPromises();
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ botId: 'b1' });
    expect(r.currentRoute.value.fullPath).toBe('/c/c9');
    expect(wrapper.emitted('close')).toHaveLength(1);
    wrapper.unmount();
  });
});
