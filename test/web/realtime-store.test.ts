// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { routeRealtimeToStores } from '../../web/src/realtime/dispatch';
import { useAuthStore } from '../../web/src/stores/auth';
import { useConversationsStore } from '../../web/src/stores/conversations';
import { useRealtimeStore } from '../../web/src/stores/realtime';
import { conversation, me, message, mockFetch } from './helpers';

/** A WebSocket double the test drives by hand. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const latest = () => FakeSocket.all[FakeSocket.all.length - 1]!;

describe('realtime store', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.all = [];
    setActivePinia(createPinia());
    useAuthStore().user = { ...me };
    routeRealtimeToStores();
  });
  afterEach(() => {
    useRealtimeStore().disconnect();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('connects to /ws on this host and routes frames to the stores', () => {
    const realtime = useRealtimeStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    expect(latest().url).toMatch(/^ws:\/\/.*\/ws$/);
    expect(realtime.status).toBe('connecting');
    expect(realtime.banner).toBeNull();
    latest().open();
    expect(realtime.status).toBe('open');
    // A fresh page has nothing to resume: it says so, and the server sends live frames at once.
    expect(latest().sent).toEqual([{ type: 'live' }]);
    const conversations = useConversationsStore();
    conversations.applyConversation(conversation() as never);
    latest().receive({ type: 'message.created', message: message({ id: 42 }) });
    expect(conversations.lastSeenMessageId).toBe(42);
  });

  it('after a drop: shows reconnecting, reconnects with backoff, resumes after the last seen message, then refetches', async () => {
    const { calls } = mockFetch({
      'GET /api/conversations': { body: { items: [conversation({ unreadCount: 2 })], next: null } },
    });
    const realtime = useRealtimeStore();
    const conversations = useConversationsStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    latest().open();
    conversations.applyConversation(conversation() as never);
    latest().receive({ type: 'message.created', message: message({ id: 42 }) });

    latest().close(1006);
    expect(realtime.banner).toBe('reconnecting');
    const before = FakeSocket.all.length;
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeSocket.all.length).toBe(before + 1);
    latest().open();
    expect(latest().sent).toContainEqual({ type: 'resume', after: 42, since: 42 });
    expect(realtime.banner).toBe('catching-up');

    // the replay arrives, then resume.done; then the list is refetched (unread counts, statuses)
    latest().receive({ type: 'message.created', message: message({ id: 43, body: 'missed while away' }) });
    latest().receive({ type: 'resume.done', last: 43 });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.some((c) => c.method === 'GET' && c.path === '/api/conversations')).toBe(true);
    await vi.waitFor(() => expect(realtime.banner).toBeNull());
    expect(conversations.get('c1')?.unreadCount).toBe(2);
    expect(conversations.lastSeenMessageId).toBe(43);
  });

  it('keeps trying with growing delays while the server is down', async () => {
    const realtime = useRealtimeStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    latest().open();
    latest().close(1006);
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(20_000);
      latest().close(1006);
    }
    expect(FakeSocket.all.length).toBe(5);
    expect(realtime.banner).toBe('reconnecting');
  });

  it('a dead link (no pong) is detected and replaced', async () => {
    const realtime = useRealtimeStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    const first = latest();
    first.open();
    await vi.advanceTimersByTimeAsync(25_000);
    expect(first.sent).toContainEqual({ type: 'ping' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(first.readyState).toBe(3);
    expect(realtime.banner).toBe('reconnecting');
  });

  it('after a reconnect, an answer that completed while away is shown complete: the resume asks for changes since the newest one seen', async () => {
    mockFetch({ 'GET /api/conversations': { body: { items: [conversation()], next: null } } });
    const realtime = useRealtimeStore();
    const conversations = useConversationsStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    latest().open();
    conversations.applyConversation(conversation() as never);
    conversations.messages.c1 = [];
    latest().receive({ type: 'message.created', message: message({ id: 7, body: '', status: 'streaming' }) });
    latest().receive({ type: 'message.delta', conversationId: 'c1', messageId: 7, delta: 'Fifteen' });
    latest().receive({ type: 'message.updated', message: message({ id: 5, body: 'edited', updatedSeq: 9 }) });

    latest().close(1006);
    await vi.advanceTimersByTimeAsync(600);
    latest().open();
    // The newest message is 7, the newest change 9: the server sends what is newer than either.
    expect(latest().sent).toContainEqual({ type: 'resume', after: 7, since: 9 });
    latest().receive({
      type: 'message.updated',
      message: message({ id: 7, body: 'Fifteen days.', status: 'complete', updatedSeq: 11 }),
    });
    latest().receive({ type: 'resume.done', last: 7, seq: 11 });
    // A live frame of an older state, late, changes nothing.
    latest().receive({ type: 'message.created', message: message({ id: 7, body: '', status: 'streaming' }) });
    await vi.advanceTimersByTimeAsync(0);

    expect(conversations.list('c1').map((m) => [m.id, m.status, m.body])).toEqual([
      [5, 'complete', 'edited'],
      [7, 'complete', 'Fifteen days.'],
    ]);
    expect(conversations.lastSeenSeq).toBe(11);
  });

  it('a history read while the link is down does not move the resume cursor past what other conversations missed', async () => {
    mockFetch({
      'GET /api/conversations/c2/messages': {
        body: { items: [message({ id: 90, conversationId: 'c2', senderType: 'user' })], next: null },
      },
    });
    const realtime = useRealtimeStore();
    const conversations = useConversationsStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    latest().open();
    latest().receive({ type: 'message.created', message: message({ id: 42 }) });
    latest().close(1006);
    await conversations.fetchMessages('c2');
    expect(conversations.list('c2').map((m) => m.id)).toEqual([90]);
    await vi.advanceTimersByTimeAsync(600);
    latest().open();
    expect(latest().sent).toContainEqual({ type: 'resume', after: 42, since: 42 });
  });

  it('a socket closed for one too many (4008) does not reconnect, so tabs do not close each other in turn', async () => {
    const realtime = useRealtimeStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    latest().open();
    latest().close(4008);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(realtime.status).toBe('closed');
    expect(useAuthStore().signedIn).toBe(true);
  });

  it('a session ended by the server (4001) signs out and does not reconnect', async () => {
    const realtime = useRealtimeStore();
    realtime.connect((url) => new FakeSocket(url) as unknown as WebSocket);
    latest().open();
    latest().close(4001);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(useAuthStore().signedIn).toBe(false);
  });
});
