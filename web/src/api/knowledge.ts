import { api, upload } from './client';
import type {
  BulkDocumentResult,
  Chunk,
  Collection,
  CollectionReaders,
  KnowledgeDocument,
  Page,
  SearchHit,
} from './types';

export interface CollectionInput {
  name?: string;
  description?: string;
  /** 'everyone', or members of `groups` (an empty list: admins only). */
  readers?: CollectionReaders;
  groups?: string[];
}

type DocumentAnswer = { document: KnowledgeDocument };

export function listCollections(): Promise<Page<Collection>> {
  return api<Page<Collection>>('/api/collections', { query: { limit: 200 } });
}

export async function createCollection(input: CollectionInput & { name: string }): Promise<Collection> {
  return (await api<{ collection: Collection }>('/api/collections', { method: 'POST', body: input })).collection;
}

export async function updateCollection(id: string, input: CollectionInput): Promise<Collection> {
  return (await api<{ collection: Collection }>(`/api/collections/${id}`, { method: 'PATCH', body: input })).collection;
}

export async function deleteCollection(id: string): Promise<void> {
  await api(`/api/collections/${id}`, { method: 'DELETE' });
}

export function listDocuments(collectionId: string): Promise<Page<KnowledgeDocument>> {
  return api<Page<KnowledgeDocument>>(`/api/collections/${collectionId}/documents`, { query: { limit: 200 } });
}

/** A file, with upload progress; `duplicate` when the collection already had its content. */
export function uploadDocument(
  collectionId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<BulkDocumentResult> {
  return upload<BulkDocumentResult>(`/api/collections/${collectionId}/documents`, file, onProgress);
}

/** A text, URL or FAQ source (the body says which). */
export async function addSource(collectionId: string, body: Record<string, unknown>): Promise<KnowledgeDocument> {
  const path = `/api/collections/${collectionId}/documents`;
  return (await api<DocumentAnswer>(path, { method: 'POST', body })).document;
}

/** Up to 500 FAQ entries in one request: all are added (or found to be duplicates), or none. */
export async function addFaqs(
  collectionId: string,
  documents: { question: string; answer: string }[],
): Promise<BulkDocumentResult[]> {
  const path = `/api/collections/${collectionId}/documents/bulk`;
  return (await api<{ items: BulkDocumentResult[] }>(path, { method: 'POST', body: { documents } })).items;
}

export async function reindexDocument(id: string): Promise<KnowledgeDocument> {
  return (await api<DocumentAnswer>(`/api/documents/${id}/reindex`, { method: 'POST' })).document;
}

export async function setDocumentEnabled(id: string, enabled: boolean): Promise<KnowledgeDocument> {
  return (await api<DocumentAnswer>(`/api/documents/${id}`, { method: 'PATCH', body: { enabled } })).document;
}

export async function deleteDocument(id: string): Promise<void> {
  await api(`/api/documents/${id}`, { method: 'DELETE' });
}

/** `flagged`: only the passages flagged as instruction-like. */
export function listChunks(documentId: string, cursor?: string | null, flagged = false): Promise<Page<Chunk>> {
  return api<Page<Chunk>>(`/api/documents/${documentId}/chunks`, {
    query: { limit: 50, cursor: cursor ?? undefined, flagged: flagged ? 'true' : undefined },
  });
}

/** Takes a passage out of answers and search, or puts it back (audited). */
export async function setChunkExcluded(documentId: string, chunkId: string, excluded: boolean): Promise<Chunk> {
  const path = `/api/documents/${documentId}/chunks/${chunkId}`;
  return (await api<{ chunk: Chunk }>(path, { method: 'PATCH', body: { excluded } })).chunk;
}

export interface SearchInput {
  query: string;
  k: number;
  mode: 'hybrid' | 'vector' | 'text';
  collectionIds?: string[];
}

/** Hybrid retrieval within the caller's permissions, as a bot would search. */
export async function search(input: SearchInput): Promise<SearchHit[]> {
  return (await api<{ hits: SearchHit[] }>('/api/search', { method: 'POST', body: input })).hits;
}

/** How many people a change of who may read would let in and shut out (nothing is changed). */
export interface ReadersChange {
  gain: number;
  lose: number;
}

export async function previewCollectionReaders(id: string, input: CollectionInput): Promise<ReadersChange> {
  const path = `/api/collections/${id}/readers/preview`;
  return (await api<{ change: ReadersChange }>(path, { method: 'POST', body: input })).change;
}

export async function previewDocumentReaders(
  id: string,
  input: { readers?: 'collection' | 'groups'; groups?: string[] },
): Promise<ReadersChange> {
  const path = `/api/documents/${id}/readers/preview`;
  return (await api<{ change: ReadersChange }>(path, { method: 'POST', body: input })).change;
}

export async function setDocumentReaders(
  id: string,
  input: { readers: 'collection' | 'groups'; groups?: string[] },
): Promise<KnowledgeDocument> {
  return (await api<DocumentAnswer>(`/api/documents/${id}`, { method: 'PATCH', body: input })).document;
}
