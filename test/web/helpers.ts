import type { KnowledgeDocument, User } from '../../web/src/api/types';
import { vi } from 'vitest';

export interface MockCall {
  method: string;
  path: string;
  body: unknown;
}

type Handler = (call: MockCall) => { status?: number; body?: unknown } | undefined;

/** A fetch stand-in answering by `METHOD /path` (query ignored), recording every call. */
export function mockFetch(routes: Record<string, Handler | { status?: number; body?: unknown }>) {
  const calls: MockCall[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://localhost');
    const method = init?.method ?? 'GET';
    const call: MockCall = { method, path: url.pathname, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const route = routes[`${method} ${url.pathname}`];
    const answer = typeof route === 'function' ? route(call) : route;
    const status = answer?.status ?? (answer ? 200 : 404);
    const body = answer ? answer.body : { error: { code: 'not_found', message: 'No such route' } };
    return new Response(status === 204 ? null : JSON.stringify(body ?? {}), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

export function message(overrides: Record<string, unknown> = {}) {
  return {
    id: 1,
    conversationId: 'c1',
    senderType: 'bot',
    senderId: null,
    senderName: null,
    body: 'Hello',
    citations: [],
    attachments: [],
    status: 'complete',
    clientId: null,
    internal: false,
    createdAt: '2026-11-26T10:00:00.000Z',
    editedAt: null,
    deletedAt: null,
    // A message never changed since it was written: its change number is its id.
    updatedSeq: (overrides.id as number | undefined) ?? 1,
    ...overrides,
  } as const;
}

export function conversation(overrides: Record<string, unknown> = {}) {
  return {
    id: 'c1',
    kind: 'bot',
    botId: 'b1',
    title: 'Leave policy',
    status: 'bot',
    assigneeId: null,
    team: null,
    priority: 0,
    handoffReason: null,
    createdBy: 'u-me',
    createdAt: '2026-11-26T09:00:00.000Z',
    lastMessageAt: '2026-11-26T09:00:00.000Z',
    queuedAt: null,
    claimedAt: null,
    firstResponseAt: null,
    resolvedAt: null,
    unreadCount: 0,
    lastReadMessageId: 0,
    ...overrides,
  } as const;
}

export const me: User = {
  id: 'u-me',
  email: 'me@example.test',
  name: 'Me',
  role: 'employee',
  disabled: false,
  skills: [],
  capacity: 5,
  sso: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  lastLoginAt: null,
};

export function knowledgeDocument(overrides: Partial<KnowledgeDocument> = {}): KnowledgeDocument {
  return {
    id: 'd1',
    collectionId: 'k1',
    title: 'VPN',
    source: 'faq',
    sourceUrl: null,
    sourceId: null,
    sourceKey: null,
    retiredReason: null,
    mime: 'text/plain',
    filename: null,
    sizeBytes: 10,
    sha256: 'ab',
    status: 'queued',
    progress: 0,
    error: null,
    chunkCount: 0,
    flaggedChunks: 0,
    excludedFlaggedChunks: 0,
    pageCount: null,
    enabled: true,
    version: 1,
    readers: 'collection',
    groups: [],
    parentId: null,
    hasFile: false,
    createdBy: null,
    createdAt: '2026-11-27T08:00:00.000Z',
    updatedAt: '2026-11-27T08:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}
