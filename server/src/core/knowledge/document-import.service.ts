import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { appendAudit, appendAudits } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { Outbox } from '../jobs/outbox.ts';
import type { Actor } from '../policy/actor.ts';
import { BlobTooLargeError, type BlobStorage } from '../storage/blob-storage.ts';
import { assertGroupsExist, type ClientInfo, type CollectionService } from './collection.service.ts';
import { createDocumentRepository, storageKeyOf, type DocumentRow, type NewDocument } from './document.repository.ts';
import { createDocumentVersionRepository } from './document-version.repository.ts';
import { FAQ_MIME } from './ingest.service.ts';
import type { CrawlSettings } from './site-crawl.ts';
import { ingestionJobs, INGEST_BATCH_DOCUMENTS } from './ingestion-jobs.ts';
import { refusalHint, sniffMime, UNSUPPORTED_TYPE } from './parsing/sniff.ts';
import { createSourceRepository } from './sources/source.repository.ts';
import { refreshJob } from './sources/source.service.ts';

/** Text and FAQ entries: their content comes with the request (a bulk import takes only these). */
export type PastedSource =
  { kind: 'text'; title: string; text: string } | { kind: 'faq'; question: string; answer: string };

export type NewSource =
  PastedSource | { kind: 'url'; url: string; title?: string | undefined; crawl?: CrawlSettings | undefined };

/** Originals of a bulk import written to storage at once. */
const STORE_CONCURRENCY = 16;

export interface Upload {
  stream: Readable;
  filename: string;
}

/** Who reads a new document besides admins: members of these groups among its collection's readers (none: all of them). */
export interface NewReaders {
  groups?: string[] | undefined;
}

export interface AddResult {
  document: DocumentRow;
  duplicate: boolean;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

const faqOrTextHash = (source: PastedSource, bytes: Buffer) =>
  sha256(source.kind === 'faq' ? `faq\n${source.question}\n${source.answer}` : bytes);

/**
 * New documents from every source: an upload (streamed to storage, size-capped, its type sniffed),
 * a URL or crawl, pasted text and FAQ entries, one or many at once (a bulk import). Each is audited
 * in the insert's transaction and de-duplicated by content; its indexing is written to the outbox in
 * that transaction too, as `ingest-document` keyed by id + version (`ingest-batch` for the documents
 * of a bulk import), and dispatched once it commits.
 */
export function createDocumentImport(deps: {
  db: Database;
  outbox: Outbox<JobMap>;
  storage: BlobStorage;
  maxUploadBytes: number;
  collections: Pick<CollectionService, 'assertReadable'>;
  /** Tells admins' screens about a document's new state. */
  publish: (doc: DocumentRow) => Promise<void>;
}) {
  const { db, outbox, storage, publish } = deps;
  const { assertReadable } = deps.collections;

  /** Inserts, audits and queues for indexing new documents in one transaction, then publishes those that were not duplicates. */
  async function insertDocuments(
    actor: Actor,
    items: { doc: NewDocument; details: Record<string, unknown> }[],
    client: ClientInfo,
    /** A URL import's source, made in the same transaction (its id is the document's `sourceId`). */
    source?: { kind: 'url' | 'site'; location: string; settings: Record<string, unknown> },
  ): Promise<AddResult[]> {
    const { inserted: results, jobs } = await db.transaction(async (tx) => {
      const groups = [...new Set(items.flatMap((i) => i.doc.groups ?? []))];
      if (groups.length) await assertGroupsExist(tx, groups);
      if (source) {
        const made = await createSourceRepository(tx).upsert({
          collectionId: items[0]!.doc.collectionId,
          ...source,
          createdBy: actor.id,
        });
        for (const item of items) item.doc.sourceId = made.source.id;
      }
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
                  details: {
                    collectionId: doc.collectionId,
                    title: doc.title,
                    source: doc.source,
                    sha256: doc.sha256,
                    ...(doc.groups ? { groups: doc.groups } : {}),
                    ...details,
                  },
                },
              ]
            : [],
        ),
      );
      // A bulk import's documents as the `ingest-batch` job their metadata names, others alone.
      const fresh = inserted.filter((r) => r.created).map((r) => r.document);
      const jobs = ingestionJobs(
        fresh.map((d) => ({ id: d.id, version: d.version, batch: d.metadata.batch as string | undefined })),
      );
      await outbox.add(tx, jobs);
      return { inserted, jobs };
    });
    outbox.dispatch(jobs);
    const created = results.filter((r) => r.created).map((r) => r.document);
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
  async function storeSource(
    actor: Actor,
    collectionId: string,
    source: PastedSource,
    id: string,
    batch: string | undefined,
    groups: string[] | undefined,
  ): Promise<NewDocument> {
    const bytes =
      source.kind === 'faq'
        ? Buffer.from(JSON.stringify({ question: source.question, answer: source.answer }))
        : Buffer.from(source.text, 'utf8');
    const key = storageKeyOf(id);
    await storage.put(key, bytes);
    return {
      id,
      collectionId,
      title: source.kind === 'faq' ? source.question : source.title,
      source: source.kind,
      mime: source.kind === 'faq' ? FAQ_MIME : 'text/markdown',
      sizeBytes: bytes.length,
      sha256: faqOrTextHash(source, bytes),
      // A FAQ entry is known by its question: asked again with a new answer, it is a new version.
      ...(source.kind === 'faq' ? { sourceKey: source.question } : {}),
      storageKey: key,
      ...(batch ? { metadata: { batch } } : {}),
      createdBy: actor.id,
      groups,
    };
  }

  /**
   * The same URL imported again: its source is refreshed (a changed page becomes a new version of
   * the same document, an unchanged one costs nothing) and the document it has comes back.
   */
  async function reimport(
    actor: Actor,
    collectionId: string,
    location: string,
    client: ClientInfo,
  ): Promise<AddResult | undefined> {
    const found = await createSourceRepository(db).findWebSource(collectionId, location);
    if (!found) return undefined;
    const document = (await createDocumentRepository(db).listBySource(found.id)).find((d) => d.source_key === location);
    if (!document) return undefined;
    const job = refreshJob(found.id, 'reimport', actor.id);
    await db.transaction(async (tx) => {
      await outbox.add(tx, [job]);
      await appendAudit(tx, {
        action: 'source.refresh_requested',
        actor,
        target: { type: 'source', id: found.id },
        ip: client.ip,
        details: { reimport: location },
      });
    });
    outbox.dispatch([job]);
    return { document, duplicate: true };
  }

  /** A FAQ entry's new answer: a new version of the entry (its chunk replaced when indexed), audited. */
  async function reviseFaq(
    actor: Actor,
    doc: DocumentRow,
    source: Extract<PastedSource, { kind: 'faq' }>,
    client: ClientInfo,
  ): Promise<AddResult> {
    const bytes = Buffer.from(JSON.stringify({ question: source.question, answer: source.answer }));
    const hash = faqOrTextHash(source, bytes);
    const blob = `documents/${doc.id}/${randomUUID()}`;
    await storage.put(blob, bytes);
    const job = await db
      .transaction(async (tx) => {
        const repo = createDocumentRepository(tx);
        const version = await repo.replaceContent(doc.id, {
          storageKey: blob,
          sizeBytes: bytes.length,
          mime: FAQ_MIME,
          marker: null,
          sha256: hash,
        });
        if (version === undefined) throw new AppError(409, 'conflict', 'The FAQ entry was deleted meanwhile');
        const number = await createDocumentVersionRepository(tx).add({
          documentId: doc.id,
          contentHash: hash,
          sizeBytes: bytes.length,
          indexVersion: version,
          origin: 'reimport',
          createdBy: actor.id,
          runId: null,
        });
        await appendAudit(tx, {
          action: 'document.version_created',
          actor,
          target: { type: 'document', id: doc.id },
          ip: client.ip,
          details: { number, sha256: hash, origin: 'reimport' },
        });
        const [job] = ingestionJobs([{ id: doc.id, version }]);
        await outbox.add(tx, [job!]);
        return job!;
      })
      .catch(async (error: unknown) => {
        await storage.delete(blob);
        throw error;
      });
    if (doc.storage_key) await storage.delete(doc.storage_key).catch(() => {});
    outbox.dispatch([job]);
    const document = (await createDocumentRepository(db).findById(doc.id))!;
    await publish(document);
    return { document, duplicate: false };
  }

  const self = {
    /** Streams the upload to storage (size-capped), sniffs its type, de-duplicates by sha256. */
    async addUpload(
      actor: Actor,
      collectionId: string,
      upload: Upload,
      client: ClientInfo,
      readers: NewReaders = {},
    ): Promise<AddResult> {
      await assertReadable(actor, collectionId);
      const id = randomUUID();
      const key = storageKeyOf(id);
      let stored;
      try {
        stored = await storage.put(key, upload.stream, { maxBytes: deps.maxUploadBytes });
      } catch (error) {
        if (error instanceof BlobTooLargeError) {
          throw new AppError(
            413,
            'payload_too_large',
            `The file is larger than the upload limit of ${Math.round(deps.maxUploadBytes / 1048576)} MB`,
          );
        }
        throw error;
      }
      const [result] = await keepIfAdded([key], async () => {
        const head = await readHead(storage, key);
        const mime = sniffMime(head, upload.filename);
        if (!mime) {
          throw new AppError(415, 'unsupported_media_type', refusalHint(head, upload.filename) ?? UNSUPPORTED_TYPE);
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
          groups: narrowing(readers),
        };
        return insertDocuments(
          actor,
          [{ doc, details: { filename: upload.filename, sizeBytes: stored.size } }],
          client,
        );
      });
      return result!;
    },

    async addSource(
      actor: Actor,
      collectionId: string,
      source: NewSource,
      client: ClientInfo,
      readers: NewReaders = {},
    ): Promise<AddResult> {
      if (source.kind !== 'url') return (await self.addSources(actor, collectionId, [source], client, readers))[0]!;
      await assertReadable(actor, collectionId);
      const url = new URL(source.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new AppError(400, 'bad_url', 'Only http and https URLs can be imported');
      url.hash = '';
      const location = url.toString();
      const again = await reimport(actor, collectionId, location, client);
      if (again) return again;
      const doc: NewDocument = {
        collectionId,
        title: source.title ?? location,
        source: 'url',
        sourceUrl: location,
        sourceKey: location,
        mime: 'text/html',
        sizeBytes: 0,
        sha256: sha256(`url\n${location}`),
        // Known once the first fetch has it.
        contentHash: null,
        storageKey: null,
        metadata: source.crawl ? { crawl: source.crawl } : {},
        createdBy: actor.id,
        groups: narrowing(readers),
      };
      const [result] = await insertDocuments(
        actor,
        [{ doc, details: { url: location, crawl: source.crawl ?? null } }],
        client,
        { kind: source.crawl ? 'site' : 'url', location, settings: source.crawl ? { ...source.crawl } : {} },
      );
      return result!;
    },

    /**
     * Pasted texts and FAQ entries, many at once (a bulk import): one transaction adds them all or
     * none; each comes back in order, new or the duplicate it is. Indexed as `ingest-batch` jobs.
     */
    async addSources(
      actor: Actor,
      collectionId: string,
      sources: PastedSource[],
      client: ClientInfo,
      readers: NewReaders = {},
    ): Promise<AddResult[]> {
      await assertReadable(actor, collectionId);
      const faqs = sources.filter((s) => s.kind === 'faq');
      const questions = [...new Set(faqs.map((s) => s.question))];
      // The same entry twice is a duplicate like any other; one question answered two ways is ambiguous.
      if (new Set(faqs.map((s) => `${s.question}\n${s.answer}`)).size > questions.length)
        throw new AppError(400, 'duplicate_question', 'The same question has two different answers in the import');
      // A question the collection already answers differently: a new version of that entry.
      const held = await createDocumentRepository(db).findFaqs(collectionId, questions);
      const answered = sources.map((s) => (s.kind === 'faq' ? held.get(s.question) : undefined));
      const revised = sources.flatMap((s, n) =>
        s.kind === 'faq' && answered[n] && answered[n].sha256 !== faqOrTextHash(s, Buffer.alloc(0)) ? [n] : [],
      );
      if (revised.length) {
        const fresh = sources.filter((_, n) => !revised.includes(n));
        const added = fresh.length ? await self.addSources(actor, collectionId, fresh, client, readers) : [];
        const results: AddResult[] = [];
        for (const [n, source] of sources.entries()) {
          results.push(
            revised.includes(n)
              ? await reviseFaq(actor, answered[n]!, source as Extract<PastedSource, { kind: 'faq' }>, client)
              : added.shift()!,
          );
        }
        return results;
      }
      const ids = sources.map(() => randomUUID());
      // Entries of a bulk import are indexed INGEST_BATCH_DOCUMENTS at a time; each batch is named
      // by its first entry's id (a duplicate's too: the name only has to be unique).
      const batchOf = (n: number) => (sources.length > 1 ? ids[n - (n % INGEST_BATCH_DOCUMENTS)] : undefined);
      return keepIfAdded(ids.map(storageKeyOf), async () => {
        const docs: NewDocument[] = [];
        for (let i = 0; i < sources.length; i += STORE_CONCURRENCY) {
          const group = sources.slice(i, i + STORE_CONCURRENCY);
          // Settled, not Promise.all: a write still running when another fails would land after the clean-up.
          const stored = await Promise.allSettled(
            group.map((s, j) => storeSource(actor, collectionId, s, ids[i + j]!, batchOf(i + j), narrowing(readers))),
          );
          for (const result of stored) {
            if (result.status === 'rejected') throw result.reason;
            docs.push(result.value);
          }
        }
        // Duplicates are found by the insert (a unique key), not by a read before it: re-adding is rare.
        return insertDocuments(
          actor,
          docs.map((doc) => ({ doc, details: {} })),
          client,
        );
      });
    },
  };
  return self;
}

/** An empty or absent list narrows nothing: the document is read by its collection's readers. */
function narrowing(readers: NewReaders): string[] | undefined {
  return readers.groups?.length ? readers.groups : undefined;
}

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
