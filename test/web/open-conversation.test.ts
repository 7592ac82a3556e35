// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import type { Conversation, Message } from '../../web/src/api/types';
import { useOpenConversation } from '../../web/src/composables/useOpenConversation';
import { i18nPlugin, setLocale } from '../../web/src/i18n';
import { useAuthStore } from '../../web/src/stores/auth';
import { useConversationsStore } from '../../web/src/stores/conversations';
import { conversation, me, message, mockFetch } from './helpers';

/** A pane that only opens the conversation and shows what the composable says. */
function pane(readsNewMessages?: (c: Conversation | undefined) => boolean) {
  return defineComponent({
    props: { conversationId: { type: String, required: true } },
    setup(props) {
      const open = useOpenConversation(() => props.conversationId, readsNewMessages ? { readsNewMessages } : {});
      return () =>
        h(
          'p',
          `${open.loading.value ? 'loading' : 'ready'}|${open.error.value ?? ''}|${open.conversation.value?.title ?? ''}|${open.messages.value.length}`,
        );
    },
  });
}

const reads = (calls: { method: string; path: string }[]) =>
  calls.filter((c) => c.method === 'POST' && c.path.endsWith('/read')).length;

describe('useOpenConversation', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    useAuthStore().user = { ...me };
    setLocale('en');
  });

  it('makes the conversation the open one, loads it, marks it read, and lets go of it on unmount', async () => {
    const { calls } = mockFetch({
      'GET /api/conversations/c1': { body: { conversation: conversation({ unreadCount: 1 }) } },
      'GET /api/conversations/c1/messages': { body: { items: [message({ id: 3 })], next: null } },
      'POST /api/conversations/c1/read': { status: 204 },
    });
    const store = useConversationsStore();
    const wrapper = mount(pane(), { props: { conversationId: 'c1' }, global: { plugins: [i18nPlugin] } });
    expect(store.activeId).toBe('c1');
    expect(wrapper.text()).toMatch(/^loading/);
    await flushPromises();
    expect(wrapper.text()).toBe('ready||Leave policy|1');
    expect(reads(calls)).toBe(1);
    wrapper.unmount();
    expect(store.activeId).toBeNull();
  });

  it('says a missing conversation is not found', async () => {
    mockFetch({
      'GET /api/conversations/c1/messages': { body: { items: [], next: null } },
    });
    const wrapper = mount(pane(), { props: { conversationId: 'c1' }, global: { plugins: [i18nPlugin] } });
    await flushPromises();
    expect(wrapper.text()).toBe('ready|This conversation does not exist or you may not see it.||0');
  });

  it('marks arriving messages read only while readsNewMessages holds', async () => {
    const { calls } = mockFetch({
      'GET /api/conversations/c1': { body: { conversation: conversation() } },
      'GET /api/conversations/c1/messages': { body: { items: [message({ id: 3 })], next: null } },
      'POST /api/conversations/c1/read': { status: 204 },
    });
    const store = useConversationsStore();
    let mine = false;
    mount(
      pane(() => mine),
      { props: { conversationId: 'c1' }, global: { plugins: [i18nPlugin] } },
    );
    await flushPromises();
    const afterLoad = reads(calls);

    store.messages.c1 = [...store.list('c1'), message({ id: 4 }) as unknown as Message];
    await flushPromises();
    expect(reads(calls)).toBe(afterLoad);

    mine = true;
    store.messages.c1 = [...store.list('c1'), message({ id: 5 }) as unknown as Message];
    await flushPromises();
    expect(reads(calls)).toBe(afterLoad + 1);
  });
});
