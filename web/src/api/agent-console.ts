import type { PresentedCannedReply } from '../../../server/src/core/canned-replies/canned-reply.presenter.ts';
import type { PresentedCustomerCard } from '../../../server/src/core/conversations/conversation.presenter.ts';
import { api } from './client';
import type { Json, Page } from './types';

/** What the agent console reads besides the conversation: the customer card, canned replies, presence. */
export type CustomerCard = Json<PresentedCustomerCard>;
export type CannedReply = Json<PresentedCannedReply>;
export interface CannedReplyInput {
  shortcut: string;
  body: string;
  shared?: boolean;
}

export async function fetchCustomer(conversationId: string): Promise<CustomerCard> {
  return (await api<{ customer: CustomerCard }>(`/api/conversations/${conversationId}/customer`)).customer;
}

export async function listCannedReplies(): Promise<CannedReply[]> {
  return (await api<Page<CannedReply>>('/api/canned-replies')).items;
}

export async function createCannedReply(input: CannedReplyInput): Promise<CannedReply> {
  return (await api<{ cannedReply: CannedReply }>('/api/canned-replies', { method: 'POST', body: input })).cannedReply;
}

export async function updateCannedReply(id: string, patch: Omit<CannedReplyInput, 'shared'>): Promise<CannedReply> {
  const path = `/api/canned-replies/${id}`;
  return (await api<{ cannedReply: CannedReply }>(path, { method: 'PATCH', body: patch })).cannedReply;
}

export async function deleteCannedReply(id: string): Promise<void> {
  await api(`/api/canned-replies/${id}`, { method: 'DELETE' });
}

/** Whether automatic assignment counts me in (available) or not (away). */
export async function fetchMyPresence(): Promise<boolean> {
  return (await api<{ agent: { available: boolean } }>('/api/agents/me')).agent.available;
}

export async function setMyPresence(available: boolean): Promise<void> {
  await api('/api/agents/me', { method: 'PATCH', body: { available } });
}
