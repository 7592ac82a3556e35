import { api } from './client';
import type {
  Conversation,
  ConversationEvent,
  ConversationKind,
  ConversationRating,
  Message,
  Page,
  Suggestion,
} from './types';

export type NewConversation =
  | { botId: string }
  | { kind: 'support'; team?: string }
  | { kind: 'direct'; userId: string }
  | { kind: 'group'; title: string; memberIds: string[] };

export type ConversationFilter = { status?: string; assignee?: string; kind?: ConversationKind };

export type ConversationAction = 'handoff' | 'claim' | 'resolve' | 'return-to-bot' | 'transfer';

type ConversationAnswer = { conversation: Conversation };

export function listConversations(filter: ConversationFilter = {}): Promise<Page<Conversation>> {
  return api<Page<Conversation>>('/api/conversations', { query: { limit: 200, ...filter } });
}

export async function fetchConversation(id: string): Promise<Conversation> {
  return (await api<ConversationAnswer>(`/api/conversations/${id}`)).conversation;
}

export async function createConversation(input: NewConversation): Promise<Conversation> {
  return (await api<ConversationAnswer>('/api/conversations', { method: 'POST', body: input })).conversation;
}

export async function conversationAction(
  id: string,
  action: ConversationAction,
  body: unknown = {},
): Promise<Conversation> {
  return (await api<ConversationAnswer>(`/api/conversations/${id}/${action}`, { method: 'POST', body })).conversation;
}

export function listMessages(conversationId: string): Promise<Page<Message>> {
  return api<Page<Message>>(`/api/conversations/${conversationId}/messages`, { query: { limit: 200 } });
}

/** Idempotent: the server keeps one message per (sender, clientId). */
export async function postMessage(
  conversationId: string,
  input: { body: string; clientId: string | null; internal?: true; attachmentIds?: string[] },
): Promise<Message> {
  const path = `/api/conversations/${conversationId}/messages`;
  return (await api<{ message: Message }>(path, { method: 'POST', body: input })).message;
}

/** The HTTP fallback for the socket's `read` frame. */
export async function markRead(conversationId: string, messageId: number): Promise<void> {
  await api(`/api/conversations/${conversationId}/read`, { method: 'POST', body: { messageId } });
}

export async function rateMessage(messageId: number, rating: 1 | -1, comment?: string): Promise<void> {
  const body = { rating, ...(comment ? { comment } : {}) };
  await api(`/api/messages/${messageId}/feedback`, { method: 'POST', body });
}

/** The agent copilot's context packet for a conversation. */
export async function fetchSuggestion(conversationId: string): Promise<Suggestion> {
  return (await api<{ suggestion: Suggestion }>(`/api/conversations/${conversationId}/suggestion`)).suggestion;
}

/** Routing history: handoffs, claims, transfers, resolutions. */
export async function listEvents(conversationId: string): Promise<ConversationEvent[]> {
  return (await api<{ items: ConversationEvent[] }>(`/api/conversations/${conversationId}/events`)).items;
}

/** Stops the bot's answer under way: the server aborts the model request; what streamed stays, marked stopped. */
export async function stopAnswer(conversationId: string): Promise<void> {
  await api(`/api/conversations/${conversationId}/stop`, { method: 'POST', body: {} });
}

/** My satisfaction rating of a resolved conversation (null: not rated yet). */
export async function fetchRating(conversationId: string): Promise<ConversationRating | null> {
  return (await api<{ rating: ConversationRating | null }>(`/api/conversations/${conversationId}/rating`)).rating;
}

/** Rates a resolved conversation 1–5; rating again changes it. */
export async function rateConversation(
  conversationId: string,
  rating: number,
  comment: string,
): Promise<ConversationRating> {
  const path = `/api/conversations/${conversationId}/rating`;
  const body = { rating, ...(comment ? { comment } : {}) };
  return (await api<{ rating: ConversationRating }>(path, { method: 'PUT', body })).rating;
}
