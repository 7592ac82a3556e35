// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { describe, expect, it, vi } from 'vitest';
import { ref } from 'vue';
import type { Conversation, Message } from '../../web/src/api/types';
import { useAnswerState } from '../../web/src/composables/useAnswerState';
import { useAuthStore } from '../../web/src/stores/auth';
import { useConversationsStore } from '../../web/src/stores/conversations';
import { conversation, me, message, mockFetch } from './helpers';

const asMessage = (o: Record<string, unknown> = {}) => message(o) as unknown as Message;
const asConversation = (o: Record<string, unknown> = {}) => conversation(o) as unknown as Conversation;

describe('where the bot is with my question', () => {
  const question = asMessage({ id: 2, senderType: 'user', senderId: me.id, body: 'How many days?' });

  it('thinking from send to the first word, streaming while words arrive, then nothing', () => {
    const c = ref<Conversation | undefined>(asConversation());
    const messages = ref<Message[]>([asMessage({ id: 1, body: 'Hello!' })]);
    const state = useAnswerState(c, messages);
    expect(state.value).toBeNull();
    messages.value = [...messages.value, { ...question, status: 'sending', id: 0 }];
    expect(state.value).toBe('thinking');
    messages.value = [asMessage({ id: 1 }), question, asMessage({ id: 3, status: 'streaming', body: '' })];
    expect(state.value).toBe('thinking');
    messages.value = [asMessage({ id: 1 }), question, asMessage({ id: 3, status: 'streaming', body: 'Fifteen' })];
    expect(state.value).toBe('streaming');
    messages.value = [asMessage({ id: 1 }), question, asMessage({ id: 3, status: 'complete', body: 'Fifteen days.' })];
    expect(state.value).toBeNull();
  });

  it('nobody thinks on the bot side once a person has the conversation, or when my message failed to send', () => {
    const c = ref<Conversation | undefined>(asConversation({ status: 'queued' }));
    const messages = ref<Message[]>([question]);
    const state = useAnswerState(c, messages);
    expect(state.value).toBeNull();
    c.value = asConversation();
    messages.value = [{ ...question, status: 'failed-send' }];
    expect(state.value).toBeNull();
  });
});

describe('Retry under a failed answer', () => {
  it('asks my question again as a new message', async () => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    useAuthStore().user = { ...me };
    const store = useConversationsStore();
    store.applyConversation(asConversation());
    store.messages.c1 = [
      asMessage({ id: 2, senderType: 'user', senderId: me.id, body: 'How many days of leave?', clientId: 'a' }),
      asMessage({ id: 3, status: 'failed', body: 'The answer could not be completed.' }),
    ];
    const { calls } = mockFetch({
      'POST /api/conversations/c1/messages': (call) => ({
        status: 201,
        body: { message: message({ id: 4, senderType: 'user', senderId: me.id, ...(call.body as object) }) },
      }),
    });
    await store.reask('c1', 3);
    const sent = calls.filter((c) => c.method === 'POST');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toMatchObject({ body: 'How many days of leave?' });
    expect((sent[0]!.body as { clientId: string }).clientId).not.toBe('a');
    expect(store.list('c1').map((m) => m.id)).toEqual([2, 3, 4]);
  });
});
