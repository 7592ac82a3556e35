import { api } from './client';
import type { Analytics, Gap, KnowledgeDocument, Page } from './types';

export async function fetchAnalytics(days: number): Promise<Analytics> {
  return (await api<{ analytics: Analytics }>('/api/admin/analytics', { query: { days } })).analytics;
}

/** Questions the bots could not answer well, grouped, most asked first. */
export async function listGaps(): Promise<Gap[]> {
  return (await api<Page<Gap>>('/api/admin/gaps')).items;
}

/** Closes a gap with an FAQ entry in a collection. */
export async function answerGap(input: {
  collectionId: string;
  question: string;
  answer: string;
}): Promise<KnowledgeDocument> {
  return (await api<{ document: KnowledgeDocument }>('/api/admin/gaps/faq', { method: 'POST', body: input })).document;
}
