import { appendAudit } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import { notFound } from '../errors.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { Outbox, OutboxJob } from '../jobs/outbox.ts';
import type { CreationKey } from '../pagination/cursor.ts';
import type { Actor } from '../policy/actor.ts';
import { resolveReaders } from '../policy/readers.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { createChunkRepository } from './chunk.repository.ts';
import { assertGroupsExist, createCollectionService, type ClientInfo } from './collection.service.ts';
import { createDocumentImport } from './document-import.service.ts';
import {
  createDocumentRepository,
  type DocumentReaders,
  type DocumentRow,
  type DocumentStatus,
} from './document.repository.ts';
import { FAQ_MIME } from './ingest.service.ts';
import { presentDocument } from './knowledge.presenter.ts';
import { createRetrievalRepository } from './retrieval.repository.ts';
import { refreshJob } from './sources/source.service.ts';

/**
 * Knowledge administration: collections and who may read them (collection.service.ts), new
 * documents from every source (document-import.service.ts), and here the documents' lifecycle:
 * listed, inspected, re-indexed, enabled or disabled, narrowed to groups, deleted. Changes are
 * audited in the same transaction.
 */
export function createKnowledgeService(deps: {
  db: Database;
  /** Indexing jobs are written here in the transaction that creates or re-versions the document. */
  outbox: Outbox<JobMap>;
  storage: BlobStorage;
  bus: Pick<RealtimeBus, 'publish'>;
  maxUploadBytes: number;
}) {
  const { db, outbox, storage, bus } = deps;
  const { assertReadable, ...collections } = createCollectionService(deps);

  async function publish(doc: DocumentRow) {
    await bus.publish({ type: 'document.updated', document: presentDocument(doc) }).catch(() => {});
  }

  const imports = createDocumentImport({ ...deps, collections: { assertReadable }, publish });

  async function getDocument(id: string): Promise<DocumentRow> {
    const doc = await createDocumentRepository(db).findById(id);
    if (!doc) throw notFound('Document');
    return doc;
  }

  return {
    ...collections,
    ...imports,
    assertReadable,
    getDocument,

    async listDocuments(
      actor: Actor,
      collectionId: string,
      page: { after?: CreationKey | undefined; limit: number; status?: DocumentStatus | undefined },
    ) {
      await assertReadable(actor, collectionId);
      return createDocumentRepository(db).listByCollection(collectionId, page);
    },

    async deleteDocument(actor: Actor, id: string, client: ClientInfo) {
      const removed = await db.transaction(async (tx) => {
        const repo = createDocumentRepository(tx);
        // Waits for an indexing transaction on this row, so no chunk can land after the delete.
        if (!(await repo.lockForUpdate(id))) throw notFound('Document');
        const doc = (await repo.delete(id))!;
        await appendAudit(tx, {
          action: 'document.deleted',
          actor,
          target: { type: 'document', id },
          ip: client.ip,
          details: { collectionId: doc.collection_id, title: doc.title },
        });
        return doc;
      });
      if (removed.storage_key) await storage.delete(removed.storage_key).catch(() => {});
      await bus
        .publish({
          type: 'document.updated',
          document: { ...presentDocument({ ...removed, groups: [] }), status: 'deleted' },
        })
        .catch(() => {});
    },

    /**
     * Indexes a document again. One kept in step with a source (a URL, a crawled page, a folder's
     * file) is fetched again first: changed content becomes a new version, unchanged content is
     * parsed and embedded again as it is. Others are parsed again from their stored original.
     */
    async reindex(actor: Actor, id: string, client: ClientInfo): Promise<DocumentRow> {
      const job = await db.transaction(async (tx) => {
        const repo = createDocumentRepository(tx);
        if (!(await repo.lockForUpdate(id))) throw notFound('Document');
        const current = (await repo.findById(id))!;
        if (current.source_id && current.source_key) {
          const refresh = refreshJob(current.source_id, 'reindex', actor.id, id);
          await outbox.add(tx, [refresh]);
          await appendAudit(tx, {
            action: 'document.reindexed',
            actor,
            target: { type: 'document', id },
            ip: client.ip,
            details: { refetch: true, sourceId: current.source_id },
          });
          return refresh;
        }
        const version = (await repo.bumpVersion(id))!;
        const indexing: OutboxJob<JobMap> = { name: 'ingest-document', payload: { documentId: id, version } };
        await outbox.add(tx, [indexing]);
        await appendAudit(tx, {
          action: 'document.reindexed',
          actor,
          target: { type: 'document', id },
          ip: client.ip,
          details: { version },
        });
        return indexing;
      });
      // Read as committed (queued at the new version) before the job can start on it.
      const doc = (await createDocumentRepository(db).findById(id))!;
      outbox.dispatch([job]);
      await publish(doc);
      return doc;
    },

    async updateDocument(
      actor: Actor,
      id: string,
      changes: { enabled?: boolean | undefined; readers?: DocumentReaders | undefined; groups?: string[] | undefined },
      client: ClientInfo,
    ): Promise<DocumentRow> {
      await db.transaction(async (tx) => {
        const repo = createDocumentRepository(tx);
        const before = await repo.findById(id);
        if (!before) throw notFound('Document');
        if (changes.enabled !== undefined && changes.enabled !== before.enabled) {
          await repo.setEnabled(id, changes.enabled);
          await appendAudit(tx, {
            action: changes.enabled ? 'document.enabled' : 'document.disabled',
            actor,
            target: { type: 'document', id },
            ip: client.ip,
          });
        }
        const { readers, groups } = resolveReaders('collection', before.readers, changes);
        if (groups || readers !== before.readers) {
          if (groups?.length) await assertGroupsExist(tx, groups);
          await repo.setReaders(id, readers, groups);
          // The pages crawled from it were imported under its readers: they follow it.
          const pages = await repo.copyReadersToChildren(id);
          await appendAudit(tx, {
            action: 'document.permissions_changed',
            actor,
            target: { type: 'document', id },
            ip: client.ip,
            details: {
              from: { readers: before.readers, groups: before.groups.map((g) => g.id) },
              to: { readers, groups: groups ?? before.groups.map((g) => g.id) },
              ...(pages ? { pages } : {}),
            },
          });
        }
      });
      const doc = (await createDocumentRepository(db).findById(id))!;
      await publish(doc);
      return doc;
    },

    /** A document as a reader opening a citation sees it: the passages they may read; "not found" when none. */
    async readDocument(actor: Actor, id: string) {
      const passages = await createRetrievalRepository(db).readableDocument(actor.id, id);
      if (!passages.length) throw notFound('Document');
      return passages;
    },

    /** What `updateDocument` with these readers would do to who reads: people let in and shut out. */
    async previewDocumentReaders(
      id: string,
      changes: { readers?: DocumentReaders | undefined; groups?: string[] | undefined },
    ): Promise<{ gain: number; lose: number }> {
      const before = await getDocument(id);
      const { readers, groups } = resolveReaders('collection', before.readers, changes);
      if (groups?.length) await assertGroupsExist(db, groups);
      return createDocumentRepository(db).readerChange(id, {
        readers,
        groups: groups ?? before.groups.map((g) => g.id),
      });
    },

    async listChunks(
      id: string,
      page: { afterOrd?: number | undefined; limit: number; flaggedOnly?: boolean | undefined },
    ) {
      await getDocument(id);
      return createChunkRepository(db).listByDocument(id, {
        ...(page.afterOrd !== undefined ? { afterOrd: page.afterOrd } : {}),
        limit: page.limit,
        flaggedOnly: page.flaggedOnly ?? false,
      });
    },

    /**
     * Takes one passage out of retrieval (an instruction-like one an admin judged hostile, say) or
     * puts it back, audited. Search, the bots, the copilot and /v1 stop returning it at once.
     */
    async setChunkExcluded(actor: Actor, documentId: string, chunkId: string, excluded: boolean, client: ClientInfo) {
      const chunk = await db.transaction(async (tx) => {
        const row = await createChunkRepository(tx).setExcluded(documentId, chunkId, excluded);
        if (!row) throw notFound('Passage');
        await appendAudit(tx, {
          action: excluded ? 'chunk.excluded' : 'chunk.included',
          actor,
          target: { type: 'document', id: documentId },
          ip: client.ip,
          details: { chunkId, ord: row.ord, flags: row.flags },
        });
        return row;
      });
      await publish(await getDocument(documentId));
      return chunk;
    },

    /** The original bytes for download/preview. */
    async openFile(id: string) {
      const doc = await getDocument(id);
      const stream = doc.storage_key ? await storage.get(doc.storage_key) : undefined;
      if (!stream) throw notFound('File');
      const filename = (doc.metadata.filename as string | undefined) ?? `${doc.title}${extensionOf(doc.mime)}`;
      return {
        stream,
        mime: doc.mime === FAQ_MIME ? 'application/json' : doc.mime,
        filename,
        size: Number(doc.size_bytes),
      };
    },
  };
}

export type KnowledgeService = ReturnType<typeof createKnowledgeService>;

function extensionOf(mime: string): string {
  const map: Record<string, string> = {
    'application/pdf': '.pdf',
    'text/markdown': '.md',
    'text/html': '.html',
    'text/csv': '.csv',
    'text/plain': '.txt',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': '.docx',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': '.xlsx',
  };
  return map[mime] ?? (mime === FAQ_MIME ? '.json' : '');
}
