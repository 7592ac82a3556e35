import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api, upload } from '../api/client';
import type { BulkDocumentResult, Collection, KnowledgeDocument, Page } from '../api/types';

export interface UploadItem {
  key: string;
  name: string;
  /** Bytes sent, 0..1. */
  sent: number;
  documentId?: string;
  error?: string;
  duplicate?: boolean;
}

/** Collections and their documents for the admin console; document status arrives live. */
export const useKnowledgeStore = defineStore('knowledge', () => {
  const collections = ref<Collection[]>([]);
  const documents = ref<Record<string, KnowledgeDocument[]>>({});
  const uploads = ref<UploadItem[]>([]);
  const loaded = ref(false);

  async function fetchCollections(): Promise<void> {
    const page = await api<Page<Collection>>('/api/collections', { query: { limit: 200 } });
    collections.value = page.items;
    loaded.value = true;
  }

  async function createCollection(input: { name: string; description?: string; groups?: string[] }): Promise<Collection> {
    const { collection } = await api<{ collection: Collection }>('/api/collections', { method: 'POST', body: input });
    collections.value = [...collections.value, collection];
    return collection;
  }

  async function updateCollection(id: string, input: { name?: string; description?: string; groups?: string[] }): Promise<void> {
    const { collection } = await api<{ collection: Collection }>(`/api/collections/${id}`, { method: 'PATCH', body: input });
    collections.value = collections.value.map((c) => (c.id === id ? collection : c));
  }

  async function deleteCollection(id: string): Promise<void> {
    await api(`/api/collections/${id}`, { method: 'DELETE' });
    collections.value = collections.value.filter((c) => c.id !== id);
    delete documents.value[id];
  }

  async function fetchDocuments(collectionId: string): Promise<void> {
    const page = await api<Page<KnowledgeDocument>>(`/api/collections/${collectionId}/documents`, { query: { limit: 200 } });
    documents.value[collectionId] = page.items;
  }

  /** A document's new state (from an API answer or a `document.updated` frame). */
  /**
   * Puts a document's latest state in its list. An add's HTTP answer can arrive after the live
   * frames of its indexing (the worker may finish first): an older state never replaces a newer one.
   */
  function applyDocument(document: KnowledgeDocument) {
    const list = documents.value[document.collectionId];
    if (!list) return;
    const index = list.findIndex((d) => d.id === document.id);
    if (index < 0) list.unshift(document);
    else if (Date.parse(document.updatedAt) >= Date.parse(list[index]!.updatedAt)) list.splice(index, 1, { ...list[index], ...document });
  }

  async function uploadFiles(collectionId: string, files: File[]): Promise<void> {
    await Promise.all(
      files.map(async (file) => {
        const item: UploadItem = { key: `${Date.now()}-${Math.random()}`, name: file.name, sent: 0 };
        uploads.value.unshift(item);
        const live = uploads.value.find((u) => u.key === item.key)!;
        try {
          const result = await upload<{ document: KnowledgeDocument; duplicate: boolean }>(
            `/api/collections/${collectionId}/documents`,
            file,
            (fraction) => (live.sent = fraction),
          );
          live.sent = 1;
          live.documentId = result.document.id;
          live.duplicate = result.duplicate;
          applyDocument(result.document);
        } catch (error) {
          live.error = (error as Error).message;
        }
      }),
    );
  }

  async function addSource(collectionId: string, body: Record<string, unknown>): Promise<KnowledgeDocument> {
    const { document } = await api<{ document: KnowledgeDocument }>(`/api/collections/${collectionId}/documents`, { method: 'POST', body });
    applyDocument(document);
    return document;
  }

  /** Up to 500 FAQ entries in one request: all are added (or found to be duplicates), or none. */
  async function addFaqs(collectionId: string, documents: { question: string; answer: string }[]): Promise<BulkDocumentResult[]> {
    const { items } = await api<{ items: BulkDocumentResult[] }>(`/api/collections/${collectionId}/documents/bulk`, {
      method: 'POST',
      body: { documents },
    });
    for (const item of items) applyDocument(item.document);
    return items;
  }

  async function reindex(document: KnowledgeDocument) {
    applyDocument((await api<{ document: KnowledgeDocument }>(`/api/documents/${document.id}/reindex`, { method: 'POST' })).document);
  }

  async function setEnabled(document: KnowledgeDocument, enabled: boolean) {
    applyDocument((await api<{ document: KnowledgeDocument }>(`/api/documents/${document.id}`, { method: 'PATCH', body: { enabled } })).document);
  }

  async function remove(document: KnowledgeDocument) {
    await api(`/api/documents/${document.id}`, { method: 'DELETE' });
    const list = documents.value[document.collectionId];
    if (list) documents.value[document.collectionId] = list.filter((d) => d.id !== document.id);
  }

  function clearFinishedUploads() {
    uploads.value = uploads.value.filter((u) => !u.error && u.sent < 1);
  }

  /** After a reconnect: statuses may have moved while frames could not arrive. */
  async function refresh(): Promise<void> {
    await Promise.all(Object.keys(documents.value).map((id) => fetchDocuments(id).catch(() => {})));
  }

  return {
    collections,
    documents,
    uploads,
    loaded,
    fetchCollections,
    createCollection,
    updateCollection,
    deleteCollection,
    fetchDocuments,
    applyDocument,
    uploadFiles,
    addSource,
    addFaqs,
    reindex,
    setEnabled,
    remove,
    clearFinishedUploads,
    refresh,
  };
});
