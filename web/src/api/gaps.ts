import { api } from './client';
import type { FaqDraft, Gap, KnowledgeDocument, Page } from './types';

export type GapStatus = 'open' | 'resolved';

export interface FaqEntry {
  collectionId: string;
  question: string;
  answer: string;
}

/** Questions the bots could not answer well, grouped, most asked first. */
export async function listGaps(status: GapStatus = 'open'): Promise<Gap[]> {
  return (await api<Page<Gap>>('/api/admin/gaps', { query: { status } })).items;
}

/** Closes a gap with an FAQ entry in a collection; `gapQuestion` names the gap when the FAQ rewords it. */
export async function answerGap(input: FaqEntry & { gapQuestion: string }): Promise<KnowledgeDocument> {
  return (await api<{ document: KnowledgeDocument }>('/api/admin/gaps/faq', { method: 'POST', body: input })).document;
}

/** An agent proposes their reply as an FAQ entry (the question defaults to the employee's last one). */
export async function proposeFaqDraft(
  messageId: number,
  input: { question: string; answer: string },
): Promise<FaqDraft> {
  return (await api<{ draft: FaqDraft }>(`/api/messages/${messageId}/faq-draft`, { method: 'POST', body: input }))
    .draft;
}

export async function listFaqDrafts(): Promise<FaqDraft[]> {
  return (await api<Page<FaqDraft>>('/api/admin/faq-drafts', { query: { status: 'pending' } })).items;
}

export async function approveFaqDraft(id: string, entry: FaqEntry): Promise<void> {
  await api(`/api/admin/faq-drafts/${encodeURIComponent(id)}/approve`, { method: 'POST', body: entry });
}

export async function rejectFaqDraft(id: string): Promise<void> {
  await api(`/api/admin/faq-drafts/${encodeURIComponent(id)}/reject`, { method: 'POST', body: {} });
}
