import { defineStore } from 'pinia';
import { ref } from 'vue';
import * as knowledgeApi from '../api/knowledge';
import type { CollectionInput } from '../api/knowledge';
import type { BulkDocumentResult, Collection, DocumentUpdate, KnowledgeDocument } from '../api/types';

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
    collections.value = (await knowledgeApi.listCollections()).items;
    loaded.value = true;
  }

  async function createCollection(input: CollectionInput & { name: string }): Promise<Collection> {
    const collection = await knowledgeApi.createCollection(input);
    collections.value = [...collections.value, collection];
    return collection;
  }

  async function updateCollection(id: string, input: CollectionInput): Promise<void> {
    const collection = await knowledgeApi.updateCollection(id, input);
    collections.value = collections.value.map((c) => (c.id === id ? collection : c));
  }

  async function deleteCollection(id: string): Promise<void> {
    await knowledgeApi.deleteCollection(id);
    collections.value = collections.value.filter((c) => c.id !== id);
    delete documents.value[id];
  }

  async function fetchDocuments(collectionId: string): Promise<void> {
    documents.value[collectionId] = (await knowledgeApi.listDocuments(collectionId)).items;
  }

  /**
   * Puts a document's latest state (from an API answer or a `document.updated` frame) in its list.
   * An add's HTTP answer can arrive after the live frames of its indexing (the worker may finish
   * first): an older state never replaces a newer one. A deleted document leaves the list.
   */
  function applyDocument(document: DocumentUpdate) {
    const list = documents.value[document.collectionId];
    if (!list) return;
    const index = list.findIndex((d) => d.id === document.id);
    if (document.status === 'deleted') {
      if (index >= 0) list.splice(index, 1);
      return;
    }
    if (index < 0) list.unshift(document);
    else if (Date.parse(document.updatedAt) >= Date.parse(list[index]!.updatedAt))
      list.splice(index, 1, { ...list[index], ...document });
  }

  async function uploadFiles(collectionId: string, files: File[]): Promise<void> {
    await Promise.all(
      files.map(async (file) => {
        const item: UploadItem = { key: `${Date.now()}-${Math.random()}`, name: file.name, sent: 0 };
        uploads.value.unshift(item);
        const live = uploads.value.find((u) => u.key === item.key)!;
        try {
          const result = await knowledgeApi.uploadDocument(collectionId, file, (fraction) => (live.sent = fraction));
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
    const document = await knowledgeApi.addSource(collectionId, body);
    applyDocument(document);
    return document;
  }

  /** Up to 500 FAQ entries in one request: all are added (or found to be duplicates), or none. */
  async function addFaqs(
    collectionId: string,
    documents: { question: string; answer: string }[],
  ): Promise<BulkDocumentResult[]> {
    const items = await knowledgeApi.addFaqs(collectionId, documents);
    for (const item of items) applyDocument(item.document);
    return items;
  }

  async function reindex(document: KnowledgeDocument) {
    applyDocument(await knowledgeApi.reindexDocument(document.id));
  }

  async function setEnabled(document: KnowledgeDocument, enabled: boolean) {
    applyDocument(await knowledgeApi.setDocumentEnabled(document.id, enabled));
  }

  async function remove(document: KnowledgeDocument) {
    await knowledgeApi.deleteDocument(document.id);
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
