import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { appendAudit, appendAudits } from '../audit/audit.service.ts';
import type { Database, Queryable } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { JobQueue } from '../jobs/job-types.ts';
import type { CreationKey } from '../pagination/cursor.ts';
import type { Actor } from '../policy/actor.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import { BlobTooLargeError, type BlobStorage } from '../storage/blob-storage.ts';
import { createChunkRepository } from './chunk.repository.ts';
import { createCollectionRepository, type CollectionRow } from './collection.repository.ts';
import { createDocumentRepository, type DocumentRow, type DocumentStatus, type NewDocument } from './document.repository.ts';
import { FAQ_MIME, storageKeyOf, type CrawlSettings } from './ingest.service.ts';
import { enqueueIngestion, INGEST_BATCH_DOCUMENTS } from './ingestion-jobs.ts';
import { presentDocument } from './knowledge.presenter.ts';
import { sniffMime } from './parsing/sniff.ts';

export interface ClientInfo {
  ip: string;
}

/** Text and FAQ entries: their content comes with the request (a bulk import takes only these). */
export type PastedSource = { kind: 'text'; title: string; text: string } | { kind: 'faq'; question: string; answer: string };

export type NewSource = PastedSource | { kind: 'url'; url: string; title?: string | undefined; crawl?: CrawlSettings | undefined };

/** Originals of a bulk import written to storage at once. */
const STORE_CONCURRENCY = 16;

export interface Upload {
  stream: Readable;
  filename: string;
}

export interface AddResult {
  document: DocumentRow;
  duplicate: boolean;
}

async function assertGroupsExist(tx: Queryable, ids: string[]) {
  const found = await createCollectionRepository(tx).existingGroups(ids);
  const missing = ids.filter((id) => !found.includes(id));
  if (missing.length) throw new AppError(400, 'unknown_group', `Unknown group id(s): ${missing.join(', ')}`);
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Knowledge administration: collections (who may read them), documents from every source, and
 * their lifecycle (re-index, enable/disable, narrow, delete). Changes are audited in the same
 * transaction; ingestion is enqueued after commit as `ingest-document` keyed by id + version
 * (`ingest-batch` for the documents of a bulk import).
 */
export function createKnowledgeService(deps: {
  db: Database;
  jobs: JobQueue<JobMap>;
  storage: BlobStorage;
  bus: Pick<RealtimeBus, 'publish'>;
  maxUploadBytes: number;
}) {
  const { db, jobs, storage, bus } = deps;

  async function readableCollection(actor: Actor, id: string): Promise<CollectionRow> {
    const repo = createCollectionRepository(db);
    const collection = await repo.findById(id);
    // An unreadable collection is reported as missing: its existence is not disclosed.
    if (!collection || !(await repo.mayRead(actor.id, id))) throw notFound('Collection');
    return collection;
  }

  /** `readableCollection` without reading the collection: adding and listing documents need only the answer. */
  async function assertReadable(actor: Actor, id: string): Promise<void> {
    // A missing collection is not readable either, and gets the same answer.
    if (!(await createCollectionRepository(db).mayRead(actor.id, id))) throw notFound('Collection');
  }

  async function enqueue(doc: Pick<DocumentRow, 'id' | 'version'>) {
    await enqueueIngestion(jobs, [{ id: doc.id, version: doc.version }]);
  }

  /** New documents to index: those of a bulk import as the `ingest-batch` job their metadata names, others alone. */
  async function enqueueAll(docs: Pick<DocumentRow, 'id' | 'version' | 'metadata'>[]) {
    await enqueueIngestion(jobs, docs.map((d) => ({ id: d.id, version: d.version, batch: d.metadata.batch as string | undefined })));
  }

  async function publish(doc: DocumentRow) {
    await bus.publish({ type: 'document.updated', document: presentDocument(doc) }).catch(() => {});
  }

  /** Inserts and audits new documents in one transaction, then enqueues and publishes those that were not duplicates. */
  async function insertDocuments(actor: Actor, items: { doc: NewDocument; details: Record<string, unknown> }[], client: ClientInfo): Promise<AddResult[]> {
    const results = await db.transaction(async (tx) => {
      const inserted = await createDocumentRepository(tx).insertManyUnlessDuplicate(items.map((i) => i.doc));
      await appendAudits(
        tx,
        items.flatMap(({ doc, details }, n) =>
          inserted[n]!.created
            ? [
                {
                  action: 'document.created',
                  actor,
                  target: { type: 'document', id: inserted[n]!.document.id },
                  ip: client.ip,
                  details: { collectionId: doc.collectionId, title: doc.title, source: doc.source, sha256: doc.sha256, ...details },
                },
              ]
            : [],
        ),
      );
      return inserted;
    });
    const created = results.filter((r) => r.created).map((r) => r.document);
    await enqueueAll(created);
    await Promise.all(created.map(publish));
    return results.map(({ document, created }) => ({ document, duplicate: !created }));
  }

  /** Runs `add`, which stores blobs under `keys`; a blob is removed unless it became a new document (also when `add` fails part-way). */
  async function keepIfAdded(keys: string[], add: () => Promise<AddResult[]>): Promise<AddResult[]> {
    try {
      const results = await add();
      await Promise.all(results.map((r, n) => (r.duplicate ? storage.delete(keys[n]!) : undefined)));
      return results;
    } catch (error) {
      await Promise.all(keys.map((key) => storage.delete(key)));
      throw error;
    }
  }

  /** A pasted text or FAQ entry as a new document, its original stored under the document's id. */
  async function storeSource(actor: Actor, collectionId: string, source: PastedSource, id: string, batch: string | undefined): Promise<NewDocument> {
    const bytes =
      source.kind === 'faq' ? Buffer.from(JSON.stringify({ question: source.question, answer: source.answer })) : Buffer.from(source.text, 'utf8');
    const key = storageKeyOf(id);
    await storage.put(key, bytes);
    return {
      id,
      collectionId,
      title: source.kind === 'faq' ? source.question : source.title,
      source: source.kind,
      mime: source.kind === 'faq' ? FAQ_MIME : 'text/markdown',
      sizeBytes: bytes.length,
      sha256: sha256(source.kind === 'faq' ? `faq\n${source.question}\n${source.answer}` : bytes),
      storageKey: key,
      ...(batch ? { metadata: { batch } } : {}),
      createdBy: actor.id,
    };
  }

  return {
    // Collections -------------------------------------------------------------------------------
    async createCollection(actor: Actor, input: { name: string; description?: string | undefined; groups?: string[] | undefined }, client: ClientInfo) {
      const id = await db.transaction(async (tx) => {
        const repo = createCollectionRepository(tx);
        if (input.groups?.length) await assertGroupsExist(tx, input.groups);
        const id = await repo.insert({ name: input.name, description: input.description ?? '', createdBy: actor.id });
        if (input.groups?.length) await repo.setGroups(id, input.groups);
        await appendAudit(tx, {
          action: 'collection.created',
          actor,
          target: { type: 'collection', id },
          ip: client.ip,
          details: { name: input.name, groups: input.groups ?? [] },
        });
        return id;
      });
      return (await createCollectionRepository(db).findById(id))!;
    },

    getCollection: readableCollection,

    async listCollections(actor: Actor, page: { after?: CreationKey | undefined; limit: number }) {
      return createCollectionRepository(db).listReadable(actor.id, page);
    },

    async updateCollection(
      actor: Actor,
      id: string,
      changes: { name?: string | undefined; description?: string | undefined; groups?: string[] | undefined },
      client: ClientInfo,
    ) {
      await db.transaction(async (tx) => {
        const repo = createCollectionRepository(tx);
        const before = await repo.findById(id);
        if (!before) throw notFound('Collection');
        if (changes.groups) await assertGroupsExist(tx, changes.groups);
        await repo.update(id, changes);
        if (changes.name !== undefined || changes.description !== undefined) {
          await appendAudit(tx, {
            action: 'collection.updated',
            actor,
            target: { type: 'collection', id },
            ip: client.ip,
            details: { from: { name: before.name, description: before.description }, to: { name: changes.name, description: changes.description } },
          });
        }
        if (changes.groups) {
          await repo.setGroups(id, changes.groups);
          await appendAudit(tx, {
            action: 'collection.permissions_changed',
            actor,
            target: { type: 'collection', id },
            ip: client.ip,
            details: { from: before.groups.map((g) => g.id), to: changes.groups },
          });
        }
      });
      return (await createCollectionRepository(db).findById(id))!;
    },

    async deleteCollection(actor: Actor, id: string, client: ClientInfo) {
      const keys = await db.transaction(async (tx) => {
        const repo = createCollectionRepository(tx);
        const before = await repo.findById(id);
        if (!before) throw notFound('Collection');
        const { storageKeys } = await repo.delete(id);
        await appendAudit(tx, {
          action: 'collection.deleted',
          actor,
          target: { type: 'collection', id },
          ip: client.ip,
          details: { name: before.name, documents: before.document_count },
        });
        return storageKeys;
      });
      // After the commit: a failed file removal leaves an orphan file, never a dangling row.
      await Promise.all(keys.map((k) => storage.delete(k).catch(() => {})));
    },

    // Documents ---------------------------------------------------------------------------------
    /** Streams the upload to storage (size-capped), sniffs its type, de-duplicates by sha256. */
    async addUpload(actor: Actor, collectionId: string, upload: Upload, client: ClientInfo): Promise<AddResult> {
      await assertReadable(actor, collectionId);
      const id = randomUUID();
      const key = storageKeyOf(id);
      let stored;
      try {
        stored = await storage.put(key, upload.stream, { maxBytes: deps.maxUploadBytes });
      } catch (error) {
        if (error instanceof BlobTooLargeError) {
          throw new AppError(413, 'payload_too_large', `The file is larger than the upload limit of ${Math.round(deps.maxUploadBytes / 1048576)} MB`);
        }
        throw error;
      }
      const [result] = await keepIfAdded([key], async () => {
        const head = await readHead(storage, key);
        const mime = sniffMime(head, upload.filename);
        if (!mime) {
          throw new AppError(415, 'unsupported_media_type', 'This file type cannot be indexed (supported: PDF, DOCX, XLSX, Markdown, HTML, CSV, plain text)');
        }
        const doc: NewDocument = {
          id,
          collectionId,
          title: titleFromFilename(upload.filename),
          source: 'upload',
          mime,
          sizeBytes: stored.size,
          sha256: stored.sha256,
          storageKey: key,
          metadata: { filename: upload.filename },
          createdBy: actor.id,
        };
        return insertDocuments(actor, [{ doc, details: { filename: upload.filename, sizeBytes: stored.size } }], client);
      });
      return result!;
    },

    async addSource(actor: Actor, collectionId: string, source: NewSource, client: ClientInfo): Promise<AddResult> {
      if (source.kind !== 'url') return (await this.addSources(actor, collectionId, [source], client))[0]!;
      await assertReadable(actor, collectionId);
      const url = new URL(source.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AppError(400, 'bad_url', 'Only http and https URLs can be imported');
      url.hash = '';
      const doc: NewDocument = {
        collectionId,
        title: source.title ?? url.toString(),
        source: 'url',
        sourceUrl: url.toString(),
        mime: 'text/html',
        sizeBytes: 0,
        sha256: sha256(`url\n${url.toString()}`),
        storageKey: null,
        metadata: source.crawl ? { crawl: source.crawl } : {},
        createdBy: actor.id,
      };
      const [result] = await insertDocuments(actor, [{ doc, details: { url: url.toString(), crawl: source.crawl ?? null } }], client);
      return result!;
    },

    /**
     * Pasted texts and FAQ entries, many at once (a bulk import): one transaction adds them all or
     * none; each comes back in order, new or the duplicate it is. Indexed as `ingest-batch` jobs.
     */
    async addSources(actor: Actor, collectionId: string, sources: PastedSource[], client: ClientInfo): Promise<AddResult[]> {
      await assertReadable(actor, collectionId);
      const ids = sources.map(() => randomUUID());
      // Entries of a bulk import are indexed INGEST_BATCH_DOCUMENTS at a time; each batch is named
      // by its first entry's id (a duplicate's too: the name only has to be unique).
      const batchOf = (n: number) => (sources.length > 1 ? ids[n - (n % INGEST_BATCH_DOCUMENTS)] : undefined);
      return keepIfAdded(ids.map(storageKeyOf), async () => {
        const docs: NewDocument[] = [];
        for (let i = 0; i < sources.length; i += STORE_CONCURRENCY) {
          const group = sources.slice(i, i + STORE_CONCURRENCY);
          // Settled, not Promise.all: a write still running when another fails would land after the clean-up.
          const stored = await Promise.allSettled(group.map((s, j) => storeSource(actor, collectionId, s, ids[i + j]!, batchOf(i + j))));
          for (const result of stored) {
            if (result.status === 'rejected') throw result.reason;
            docs.push(result.value);
          }
        }
        // Duplicates are found by the insert (a unique key), not by a read before it: re-adding is rare.
        return insertDocuments(actor, docs.map((doc) => ({ doc, details: {} })), client);
      });
    },

    async listDocuments(
      actor: Actor,
      collectionId: string,
      page: { after?: CreationKey | undefined; limit: number; status?: DocumentStatus | undefined },
    ) {
      await assertReadable(actor, collectionId);
      return createDocumentRepository(db).listByCollection(collectionId, page);
    },

    async getDocument(id: string): Promise<DocumentRow> {
      const doc = await createDocumentRepository(db).findById(id);
      if (!doc) throw notFound('Document');
      return doc;
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
      await bus.publish({ type: 'document.updated', document: { ...presentDocument({ ...removed, groups: [] }), status: 'deleted' } }).catch(() => {});
    },

    async reindex(actor: Actor, id: string, client: ClientInfo): Promise<DocumentRow> {
      await db.transaction(async (tx) => {
        const repo = createDocumentRepository(tx);
        if (!(await repo.lockForUpdate(id))) throw notFound('Document');
        const version = await repo.bumpVersion(id);
        await appendAudit(tx, { action: 'document.reindexed', actor, target: { type: 'document', id }, ip: client.ip, details: { version } });
      });
      const doc = (await createDocumentRepository(db).findById(id))!;
      await enqueue(doc);
      await publish(doc);
      return doc;
    },

    async updateDocument(
      actor: Actor,
      id: string,
      changes: { enabled?: boolean | undefined; groups?: string[] | undefined },
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
        if (changes.groups) {
          await assertGroupsExist(tx, changes.groups);
          await repo.setGroups(id, changes.groups);
          await appendAudit(tx, {
            action: 'document.permissions_changed',
            actor,
            target: { type: 'document', id },
            ip: client.ip,
            details: { from: before.groups.map((g) => g.id), to: changes.groups },
          });
        }
      });
      const doc = (await createDocumentRepository(db).findById(id))!;
      await publish(doc);
      return doc;
    },

    async listChunks(id: string, page: { afterOrd?: number | undefined; limit: number }) {
      await this.getDocument(id);
      return createChunkRepository(db).listByDocument(id, { ...(page.afterOrd !== undefined ? { afterOrd: page.afterOrd } : {}), limit: page.limit });
    },

    /** The original bytes for download/preview. */
    async openFile(id: string) {
      const doc = await this.getDocument(id);
      const stream = doc.storage_key ? await storage.get(doc.storage_key) : undefined;
      if (!stream) throw notFound('File');
      const filename = (doc.metadata.filename as string | undefined) ?? `${doc.title}${extensionOf(doc.mime)}`;
      return { stream, mime: doc.mime === FAQ_MIME ? 'application/json' : doc.mime, filename, size: Number(doc.size_bytes) };
    },
  };
}

export type KnowledgeService = ReturnType<typeof createKnowledgeService>;

async function readHead(storage: BlobStorage, key: string): Promise<Buffer> {
  const stream = await storage.get(key);
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= 8192) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, 8192);
}

function titleFromFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.[a-z0-9]{1,5}$/i, '') || base || 'Untitled';
}

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
