import type {
  PresentedDocumentVersion,
  PresentedSource,
} from '../../../server/src/core/knowledge/sources/source.presenter.ts';
import { api } from './client';
import type { Json } from './types';

/** A URL import, crawled site or server folder the collection is kept in step with, with its recent runs. */
export type KnowledgeSource = Json<PresentedSource>;
export type SourceRun = KnowledgeSource['runs'][number];
export type DocumentVersion = Json<PresentedDocumentVersion>;

export async function listSources(collectionId: string): Promise<KnowledgeSource[]> {
  return (await api<{ items: KnowledgeSource[] }>(`/api/collections/${collectionId}/sources`)).items;
}

/** A directory on the server (under SYNC_ALLOWED_ROOTS), synced now and then on `schedule`. */
export async function addFolder(collectionId: string, path: string, schedule: string | null): Promise<KnowledgeSource> {
  const body = { kind: 'folder', path, ...(schedule ? { schedule } : {}) };
  return (await api<{ source: KnowledgeSource }>(`/api/collections/${collectionId}/sources`, { method: 'POST', body }))
    .source;
}

/** `hourly`, `daily`, `weekly`, a five-field cron expression (UTC), or null for none. */
export async function setSourceSchedule(id: string, schedule: string | null): Promise<KnowledgeSource> {
  return (await api<{ source: KnowledgeSource }>(`/api/sources/${id}`, { method: 'PATCH', body: { schedule } })).source;
}

export async function refreshSource(id: string): Promise<KnowledgeSource> {
  return (await api<{ source: KnowledgeSource }>(`/api/sources/${id}/refresh`, { method: 'POST' })).source;
}

export async function listVersions(documentId: string): Promise<DocumentVersion[]> {
  return (await api<{ items: DocumentVersion[] }>(`/api/documents/${documentId}/versions`)).items;
}
