import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { newClientId } from '../api/client';
import * as conversationsApi from '../api/conversations';
import type { ConversationAction, ConversationFilter, NewConversation } from '../api/conversations';
import type { Attachment, Conversation, Message } from '../api/types';
import { useAuthStore } from './auth';
import { useRealtimeStore } from './realtime';

const TYPING_TTL_MS = 6000;

function byId(a: Message, b: Message): number {
  const pa = a.status === 'sending' || a.status === 'failed-send';
  const pb = b.status === 'sending' || b.status === 'failed-send';
  if (pa !== pb) return pa ? 1 : -1;
  return pa ? a.createdAt.localeCompare(b.createdAt) : a.id - b.id;
}

/**
 * Conversations and their messages, for the employee chat and the agent console alike: loaded
 * over HTTP, kept current by realtime frames (see realtime/dispatch.ts), sent idempotently.
 */
export const useConversationsStore = defineStore('conversations', () => {
  const byConversationId = ref<Record<string, Conversation>>({});
  const messages = ref<Record<string, Message[]>>({});
  const typing = ref<Record<string, Record<string, number>>>({});
  const reads = ref<Record<string, Record<string, number>>>({});
  const activeId = ref<string | null>(null);
  const listLoaded = ref(false);
  const listError = ref<unknown>(null);
  /** The highest message id this client has seen: where `resume` continues after a reconnect. */
  const lastSeenMessageId = ref(0);
  /** The highest change number (a message's updatedSeq) seen: `resume` also sends what changed after it. */
  const lastSeenSeq = ref(0);

  const me = () => useAuthStore().user?.id ?? null;

  const all = computed(() =>
    Object.values(byConversationId.value).sort((a, b) => b.lastMessageAt.localeCompare(a.lastMessageAt)),
  );
  /** The employee's own chats: with bots, support requests they made, and chats with colleagues. */
  const personal = computed(() =>
    all.value.filter((c) => c.createdBy === me() || c.kind === 'direct' || c.kind === 'group'),
  );
  const queue = computed(() =>
    all.value
      .filter((c) => c.status === 'queued')
      .sort((a, b) => (a.queuedAt ?? a.createdAt).localeCompare(b.queuedAt ?? b.createdAt)),
  );
  const mine = computed(() => all.value.filter((c) => c.status === 'assigned' && c.assigneeId === me()));
  const totalUnread = computed(() => personal.value.reduce((n, c) => n + (c.unreadCount ?? 0), 0));

  function noteSeen(id: number, seq = id) {
    if (id > lastSeenMessageId.value) lastSeenMessageId.value = id;
    if (seq > lastSeenSeq.value) lastSeenSeq.value = seq;
  }

  function upsert(conversation: Conversation): Conversation {
    const previous = byConversationId.value[conversation.id];
    const merged: Conversation = { ...previous, ...conversation };
    // Fields a partial view leaves out keep their known values; queue fields go with the queue.
    if (conversation.status !== 'queued') {
      delete merged.queuePosition;
      delete merged.estimatedWaitSeconds;
    }
    byConversationId.value[conversation.id] = merged;
    return merged;
  }

  function get(id: string): Conversation | undefined {
    return byConversationId.value[id];
  }

  async function fetchList(filter: ConversationFilter = {}): Promise<void> {
    try {
      const page = await conversationsApi.listConversations(filter);
      for (const c of page.items) upsert(c);
      listLoaded.value = true;
      listError.value = null;
    } catch (error) {
      listError.value = error;
      throw error;
    }
  }

  async function fetchConversation(id: string): Promise<Conversation> {
    return upsert(await conversationsApi.fetchConversation(id));
  }

  function list(id: string): Message[] {
    return messages.value[id] ?? [];
  }

  async function fetchMessages(id: string): Promise<void> {
    const page = await conversationsApi.listMessages(id);
    const pending = list(id).filter((m) => m.status === 'sending' || m.status === 'failed-send');
    const streaming = list(id).filter((m) => m.status === 'streaming' && !page.items.some((x) => x.id === m.id));
    const confirmed = page.items.filter((m) => !m.deletedAt);
    // History moves the resume cursor only while the link is in step: read while it is down, a
    // newer message here would make the resume skip what other conversations missed meanwhile.
    if (useRealtimeStore().inStep) for (const m of page.items) noteSeen(m.id, m.updatedSeq);
    messages.value[id] = [
      ...confirmed,
      ...streaming,
      ...pending.filter((p) => !confirmed.some((m) => m.clientId === p.clientId)),
    ].sort(byId);
  }

  function isVisible(conversationId: string): boolean {
    return (
      activeId.value === conversationId && (typeof document === 'undefined' || document.visibilityState !== 'hidden')
    );
  }

  /** A message from the server (created, updated, completed, or a send's answer): insert or replace. */
  function applyMessage(message: Message) {
    noteSeen(message.id, message.updatedSeq);
    const current = messages.value[message.conversationId];
    // An older state arriving after a newer one (a send's answer after its edit, say) changes nothing.
    const shown = current?.find((m) => m.id === message.id);
    if (shown && shown.updatedSeq > message.updatedSeq) return;
    const conversation = byConversationId.value[message.conversationId];
    if (!conversation) {
      // A conversation this client does not know yet (a colleague started it, an agent was assigned).
      fetchConversation(message.conversationId).catch(() => {});
    }
    if (message.deletedAt) {
      if (current) messages.value[message.conversationId] = current.filter((m) => m.id !== message.id);
      return;
    }
    const known =
      current?.findIndex(
        (m) =>
          m.id === message.id ||
          (message.clientId !== null && m.clientId === message.clientId && m.senderId === message.senderId),
      ) ?? -1;
    if (current) {
      if (known >= 0) current.splice(known, 1, message);
      else {
        current.push(message);
        current.sort(byId);
      }
    }
    if (known < 0 && conversation) {
      if (message.createdAt > conversation.lastMessageAt) conversation.lastMessageAt = message.createdAt;
      if (message.senderId !== me() && !isVisible(message.conversationId))
        conversation.unreadCount = (conversation.unreadCount ?? 0) + 1;
    }
    // Whoever wrote a message has stopped typing.
    if (message.senderId) clearTyping(message.conversationId, message.senderId);
  }

  /** A piece of a streaming answer: appended to its message (created on the first piece). */
  function applyDelta(frame: { conversationId: string; messageId: number; delta: string }) {
    const current = (messages.value[frame.conversationId] ??= []);
    const message = current.find((m) => m.id === frame.messageId);
    if (message) {
      if (message.status === 'streaming') message.body += frame.delta;
      return;
    }
    current.push({
      id: frame.messageId,
      conversationId: frame.conversationId,
      senderType: 'bot',
      senderId: null,
      senderName: null,
      body: frame.delta,
      citations: [],
      attachments: [],
      status: 'streaming',
      clientId: null,
      internal: false,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deletedAt: null,
      // Any state of the message from the server replaces this placeholder.
      updatedSeq: 0,
    });
    current.sort(byId);
  }

  function applyConversation(conversation: Conversation) {
    upsert(conversation);
  }

  function applyTyping(conversationId: string, userId: string) {
    if (userId === me()) return;
    const entry = (typing.value[conversationId] ??= {});
    const until = Date.now() + TYPING_TTL_MS;
    entry[userId] = until;
    setTimeout(() => {
      if (typing.value[conversationId]?.[userId] === until) clearTyping(conversationId, userId);
    }, TYPING_TTL_MS);
  }

  function clearTyping(conversationId: string, userId: string) {
    const entry = typing.value[conversationId];
    if (entry && userId in entry) delete entry[userId];
  }

  function typingUsers(conversationId: string): string[] {
    return Object.keys(typing.value[conversationId] ?? {});
  }

  function applyRead(conversationId: string, userId: string, messageId: number) {
    const entry = (reads.value[conversationId] ??= {});
    entry[userId] = Math.max(entry[userId] ?? 0, messageId);
    if (userId === me()) {
      const conversation = byConversationId.value[conversationId];
      if (conversation) {
        conversation.lastReadMessageId = Math.max(conversation.lastReadMessageId ?? 0, messageId);
        const unread = list(conversationId).filter(
          (m) => m.id > messageId && m.senderId !== me() && m.status !== 'sending',
        ).length;
        conversation.unreadCount = Math.min(conversation.unreadCount ?? 0, unread);
      }
    }
  }

  /** Has anyone other than me read up to (at least) this message? */
  function readByOthers(conversationId: string, messageId: number): boolean {
    const entry = reads.value[conversationId] ?? {};
    return Object.entries(entry).some(([userId, id]) => userId !== me() && id >= messageId);
  }

  /** Marks the conversation read up to its newest message, telling the server once per new message. */
  function markRead(conversationId: string) {
    const conversation = byConversationId.value[conversationId];
    const last = [...list(conversationId)]
      .reverse()
      .find((m) => m.id > 0 && m.status !== 'sending' && m.status !== 'failed-send');
    if (!conversation || !last) return;
    if ((conversation.lastReadMessageId ?? 0) >= last.id && !conversation.unreadCount) return;
    conversation.lastReadMessageId = last.id;
    conversation.unreadCount = 0;
    const sent = useRealtimeStore().send({ type: 'read', conversationId, messageId: last.id });
    if (!sent) conversationsApi.markRead(conversationId, last.id).catch(() => {});
  }

  async function post(pending: Message): Promise<void> {
    try {
      const message = await conversationsApi.postMessage(pending.conversationId, {
        body: pending.body,
        clientId: pending.clientId,
        ...(pending.internal ? { internal: true } : {}),
        ...(pending.attachments.length ? { attachmentIds: pending.attachments.map((a) => a.id) } : {}),
      });
      applyMessage(message);
      // The first question titles the conversation on the server: the list and header show that title.
      const conversation = byConversationId.value[pending.conversationId];
      if (conversation && !conversation.title && conversation.kind === 'bot')
        fetchConversation(pending.conversationId).catch(() => {});
    } catch (error) {
      const current = list(pending.conversationId).find(
        (m) => m.clientId === pending.clientId && m.status === 'sending',
      );
      if (current) current.status = 'failed-send';
      throw error;
    }
  }

  /** Sends a message; it shows at once and a retry reuses its clientId, so nothing is sent twice. */
  async function send(
    conversationId: string,
    body: string,
    options: { internal?: boolean; attachments?: Attachment[] } = {},
  ): Promise<void> {
    const user = useAuthStore().user;
    const pending: Message = {
      id: 0,
      conversationId,
      senderType: user?.role === 'employee' || !user ? 'user' : 'agent',
      senderId: user?.id ?? null,
      senderName: user?.name ?? null,
      body,
      citations: [],
      attachments: options.attachments ?? [],
      status: 'sending',
      clientId: newClientId(),
      internal: options.internal ?? false,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deletedAt: null,
      updatedSeq: 0,
    };
    (messages.value[conversationId] ??= []).push(pending);
    await post(pending);
  }

  async function retry(conversationId: string, clientId: string): Promise<void> {
    const failed = list(conversationId).find((m) => m.clientId === clientId && m.status === 'failed-send');
    if (!failed) return;
    failed.status = 'sending';
    await post(failed);
  }

  function discard(conversationId: string, clientId: string) {
    messages.value[conversationId] = list(conversationId).filter(
      (m) => !(m.clientId === clientId && m.status === 'failed-send'),
    );
  }

  /** Stops the bot's answer under way (the Stop button); the answer's final state arrives as a frame. */
  async function stopAnswer(conversationId: string): Promise<void> {
    await conversationsApi.stopAnswer(conversationId);
  }

  /** Asks again the question a failed answer was for (the Retry under it). */
  async function reask(conversationId: string, failedId: number): Promise<void> {
    const question = [...list(conversationId)]
      .reverse()
      .find((m) => m.id > 0 && m.id < failedId && m.senderType === 'user' && m.senderId === me());
    if (question) await send(conversationId, question.body);
  }

  async function create(input: NewConversation): Promise<Conversation> {
    return upsert({ unreadCount: 0, ...(await conversationsApi.createConversation(input)) });
  }

  async function action(id: string, path: ConversationAction, body: unknown = {}): Promise<Conversation> {
    return upsert(await conversationsApi.conversationAction(id, path, body));
  }

  async function feedback(messageId: number, rating: 1 | -1, comment?: string): Promise<void> {
    await conversationsApi.rateMessage(messageId, rating, comment);
  }

  /** After a reconnect: the list (unread counts, statuses) and the open conversation, fresh from the server. */
  async function refresh(): Promise<void> {
    await fetchList().catch(() => {});
    if (activeId.value) {
      await Promise.all([
        fetchConversation(activeId.value).catch(() => {}),
        fetchMessages(activeId.value).catch(() => {}),
      ]);
    }
  }

  function reset() {
    byConversationId.value = {};
    messages.value = {};
    typing.value = {};
    reads.value = {};
    activeId.value = null;
    listLoaded.value = false;
    lastSeenMessageId.value = 0;
    lastSeenSeq.value = 0;
  }

  return {
    byConversationId,
    messages,
    typing,
    reads,
    activeId,
    listLoaded,
    listError,
    lastSeenMessageId,
    lastSeenSeq,
    all,
    personal,
    queue,
    mine,
    totalUnread,
    get,
    list,
    fetchList,
    fetchConversation,
    fetchMessages,
    applyMessage,
    applyDelta,
    applyConversation,
    applyTyping,
    applyRead,
    typingUsers,
    readByOthers,
    markRead,
    send,
    retry,
    discard,
    stopAnswer,
    reask,
    create,
    action,
    feedback,
    refresh,
    reset,
    noteSeen,
  };
});
