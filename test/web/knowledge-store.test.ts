// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useKnowledgeStore } from '../../web/src/stores/knowledge';
import { knowledgeDocument, mockFetch } from './helpers';

const doc = (overrides: Parameters<typeof knowledgeDocument>[0]) =>
  knowledgeDocument({ collectionId: 'c1', ...overrides });

describe('knowledge store', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('keeps a document ready when the answer to its add arrives after the frame saying it is indexed', async () => {
    const queued = doc({});
    const ready = doc({ status: 'ready', progress: 1, chunkCount: 1, updatedAt: '2026-11-27T08:00:00.250Z' });
    mockFetch({
      'GET /api/collections/c1/documents': { body: { items: [], next: null } },
      'POST /api/collections/c1/documents/bulk': {
        status: 202,
        body: { items: [{ document: queued, duplicate: false }] },
      },
    });
    const store = useKnowledgeStore();
    await store.fetchDocuments('c1');
    store.applyDocument(ready); // the live frame wins the race
    await store.addFaqs('c1', [{ question: 'VPN', answer: 'Use the client.' }]);
    expect(store.documents.c1).toEqual([expect.objectContaining({ id: 'd1', status: 'ready', chunkCount: 1 })]);
    store.applyDocument(doc({ status: 'failed', error: 'gone', updatedAt: '2026-11-27T08:00:01.000Z' }));
    expect(store.documents.c1![0]).toMatchObject({ status: 'failed', error: 'gone' });
  });

  it('drops a document from its list when a frame says it was deleted (by another admin)', async () => {
    mockFetch({ 'GET /api/collections/c1/documents': { body: { items: [doc({}), doc({ id: 'd2' })], next: null } } });
    const store = useKnowledgeStore();
    await store.fetchDocuments('c1');
    store.applyDocument({ ...doc({}), status: 'deleted', updatedAt: '2026-11-27T08:00:01.000Z' });
    expect(store.documents.c1!.map((d) => d.id)).toEqual(['d2']);
  });
});
