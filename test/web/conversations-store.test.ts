// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, Message } from '../../web/src/api/types';
import type { ServerFrame } from '../../web/src/realtime/frames';
import { dispatch } from '../../web/src/realtime/dispatch';
import { useAuthStore } from '../../web/src/stores/auth';
import { useConversationsStore } from '../../web/src/stores/conversations';
import { useKnowledgeStore } from '../../web/src/stores/knowledge';
import { conversation, me, message, mockFetch } from './helpers';

const asMessage = (o: Record<string, unknown> = {}) => message(o) as unknown as Message;
/** A message as a frame carries it (the server knows no browser-only statuses). */
type SentMessage = Extract<ServerFrame, { type: 'message.created' }>['message'];
const sentMessage = (o: Record<string, unknown> = {}) => message(o) as SentMessage;
const asConversation = (o: Record<string, unknown> = {}) => conversation(o) as unknown as Conversation;

function setup() {
  setActivePinia(createPinia());
  vi.unstubAllGlobals();
  useAuthStore().user = { ...me };
  const store = useConversationsStore();
  store.applyConversation(asConversation());
  store.messages.c1 = [asMessage({ id: 1, body: 'Hi, how can I help?' })];
  return store;
}

describe('realtime frames → conversation state', () => {
  beforeEach(() => {
    setup();
  });

  it('message.created adds the message, moves the conversation up and counts it unread when not open', () => {
    const store = useConversationsStore();
    const fromAgent = sentMessage({
      id: 5,
      senderType: 'agent',
      senderId: 'u-agent',
      body: 'Hello from support',
      createdAt: '2026-11-26T11:00:00.000Z',
    });
    dispatch({ type: 'message.created', message: fromAgent });
    expect(store.list('c1').map((m) => m.id)).toEqual([1, 5]);
    expect(store.get('c1')?.unreadCount).toBe(1);
    expect(store.get('c1')?.lastMessageAt).toBe('2026-11-26T11:00:00.000Z');
    expect(store.lastSeenMessageId).toBe(5);
    // the same frame again (a resume replay) changes nothing
    dispatch({ type: 'message.created', message: fromAgent });
    expect(store.list('c1')).toHaveLength(2);
    expect(store.get('c1')?.unreadCount).toBe(1);
  });

  it('does not count messages as unread in the open conversation', () => {
    const store = useConversationsStore();
    store.activeId = 'c1';
    dispatch({ type: 'message.created', message: sentMessage({ id: 6, senderType: 'bot' }) });
    expect(store.get('c1')?.unreadCount).toBe(0);
  });

  it('message.delta appends to the streaming message (creating it on the first piece); completed replaces it', () => {
    const store = useConversationsStore();
    dispatch({ type: 'message.delta', conversationId: 'c1', messageId: 7, delta: 'According to ' });
    dispatch({ type: 'message.delta', conversationId: 'c1', messageId: 7, delta: 'the handbook…' });
    const streaming = store.list('c1').find((m) => m.id === 7)!;
    expect(streaming.status).toBe('streaming');
    expect(streaming.body).toBe('According to the handbook…');
    const citations = [
      { index: 1, documentId: 'd1', chunkId: 'k1', title: 'Handbook', page: 3, snippet: 'Annual leave is 15 days.' },
    ];
    const answer = sentMessage({ id: 7, body: 'According to the handbook [1], 15 days.', citations });
    dispatch({ type: 'message.completed', message: answer });
    const done = store.list('c1').filter((m) => m.id === 7);
    expect(done).toHaveLength(1);
    expect(done[0]!.status).toBe('complete');
    expect(done[0]!.citations).toEqual(citations);
    // a late delta after completion does not corrupt the final text
    dispatch({ type: 'message.delta', conversationId: 'c1', messageId: 7, delta: 'junk' });
    expect(store.list('c1').find((m) => m.id === 7)!.body).toBe('According to the handbook [1], 15 days.');
  });

  it('conversation.updated moves a conversation into and out of the agent queue', () => {
    const store = useConversationsStore();
    dispatch({
      type: 'conversation.updated',
      conversation: asConversation({
        id: 'c2',
        kind: 'support',
        status: 'queued',
        createdBy: 'u-other',
        queuedAt: '2026-11-26T10:00:00.000Z',
        queuePosition: 1,
        estimatedWaitSeconds: 120,
      }),
    });
    expect(store.queue.map((c) => c.id)).toEqual(['c2']);
    expect(store.get('c2')?.estimatedWaitSeconds).toBe(120);
    dispatch({
      type: 'conversation.updated',
      conversation: asConversation({
        id: 'c2',
        kind: 'support',
        status: 'assigned',
        assigneeId: 'u-me',
        createdBy: 'u-other',
      }),
    });
    expect(store.queue).toEqual([]);
    expect(store.mine.map((c) => c.id)).toEqual(['c2']);
    expect(store.get('c2')?.queuePosition).toBeUndefined();
    // someone else's support conversation is not in my personal chat list
    expect(store.personal.map((c) => c.id)).toEqual(['c1']);
  });

  it('typing shows who types until their message arrives; read marks receipts', () => {
    const store = useConversationsStore();
    dispatch({ type: 'typing', conversationId: 'c1', userId: 'u-agent' });
    dispatch({ type: 'typing', conversationId: 'c1', userId: 'u-me' });
    expect(store.typingUsers('c1')).toEqual(['u-agent']);
    dispatch({ type: 'message.created', message: sentMessage({ id: 9, senderType: 'agent', senderId: 'u-agent' }) });
    expect(store.typingUsers('c1')).toEqual([]);
    expect(store.readByOthers('c1', 9)).toBe(false);
    dispatch({ type: 'read', conversationId: 'c1', userId: 'u-agent', messageId: 9 });
    expect(store.readByOthers('c1', 9)).toBe(true);
    expect(store.readByOthers('c1', 10)).toBe(false);
  });

  it('my own read frame (from another tab) clears the unread count', () => {
    const store = useConversationsStore();
    dispatch({ type: 'message.created', message: sentMessage({ id: 11, senderType: 'bot' }) });
    expect(store.get('c1')?.unreadCount).toBe(1);
    dispatch({ type: 'read', conversationId: 'c1', userId: 'u-me', messageId: 11 });
    expect(store.get('c1')?.unreadCount).toBe(0);
  });

  it('document.updated updates a listed document (live ingestion progress)', () => {
    const knowledge = useKnowledgeStore();
    const at = (ms: number) => new Date(Date.UTC(2026, 10, 27, 8, 0, 0, ms)).toISOString();
    knowledge.documents.col1 = [
      {
        id: 'd1',
        collectionId: 'col1',
        title: 'Handbook.pdf',
        status: 'processing',
        progress: 0.2,
        updatedAt: at(0),
      } as never,
    ];
    dispatch({
      type: 'document.updated',
      document: {
        id: 'd1',
        collectionId: 'col1',
        title: 'Handbook.pdf',
        status: 'processing',
        progress: 0.6,
        updatedAt: at(250),
      } as never,
    });
    expect(knowledge.documents.col1![0]!.progress).toBe(0.6);
    dispatch({
      type: 'document.updated',
      document: {
        id: 'd1',
        collectionId: 'col1',
        title: 'Handbook.pdf',
        status: 'ready',
        progress: 1,
        chunkCount: 12,
        updatedAt: at(500),
      } as never,
    });
    expect(knowledge.documents.col1![0]!.status).toBe('ready');
  });
});

describe('sending', () => {
  beforeEach(() => {
    setup();
  });

  it('shows the message at once and replaces it with the stored one (same clientId)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { calls } = mockFetch({});
    const fetchMock = vi.fn(async (_input: RequestInfo | URL, init?: RequestInit) => {
      const body = JSON.parse(String(init!.body)) as { body: string; clientId: string };
      calls.push({ method: 'POST', path: '/x', body });
      await gate;
      return new Response(
        JSON.stringify({
          message: message({ id: 20, senderType: 'user', senderId: 'u-me', body: body.body, clientId: body.clientId }),
        }),
        {
          status: 201,
          headers: { 'content-type': 'application/json' },
        },
      );
    });
    vi.stubGlobal('fetch', fetchMock);
    const store = useConversationsStore();
    const sending = store.send('c1', 'How many leave days?');
    const pending = store.list('c1').at(-1)!;
    expect(pending.status).toBe('sending');
    expect(pending.clientId).toBeTruthy();
    // the socket's message.created can arrive before the HTTP answer
    const echo = {
      id: 20,
      senderType: 'user',
      senderId: 'u-me',
      body: 'How many leave days?',
      clientId: pending.clientId,
    };
    dispatch({ type: 'message.created', message: sentMessage(echo) });
    release();
    await sending;
    const mine = store.list('c1').filter((m) => m.body === 'How many leave days?');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.id).toBe(20);
    expect((calls[0]!.body as { clientId: string }).clientId).toBe(pending.clientId);
  });

  it('a failed send can be retried with the same clientId', async () => {
    const clientIds: string[] = [];
    let fail = true;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_input: RequestInfo | URL, init?: RequestInit) => {
        const body = JSON.parse(String(init!.body)) as { body: string; clientId: string };
        clientIds.push(body.clientId);
        if (fail)
          return new Response(JSON.stringify({ error: { code: 'internal', message: 'boom' } }), {
            status: 503,
            headers: { 'content-type': 'application/json' },
          });
        return new Response(
          JSON.stringify({
            message: message({
              id: 30,
              senderType: 'user',
              senderId: 'u-me',
              body: body.body,
              clientId: body.clientId,
            }),
          }),
          {
            status: 201,
            headers: { 'content-type': 'application/json' },
          },
        );
      }),
    );
    const store = useConversationsStore();
    await expect(store.send('c1', 'retry me')).rejects.toThrow('boom');
    const failed = store.list('c1').at(-1)!;
    expect(failed.status).toBe('failed-send');
    fail = false;
    await store.retry('c1', failed.clientId!);
    expect(clientIds).toHaveLength(2);
    expect(clientIds[0]).toBe(clientIds[1]);
    expect(
      store
        .list('c1')
        .filter((m) => m.body === 'retry me')
        .map((m) => [m.id, m.status]),
    ).toEqual([[30, 'complete']]);
  });
});
