import { createHash, randomUUID } from 'node:crypto';
import { appendAudit } from '../../audit/audit.service.ts';
import type { Database, Queryable } from '../../db/database.ts';
import type { JobMap } from '../../jobs/job-map.ts';
import type { Outbox, OutboxJob } from '../../jobs/outbox.ts';
import type { Logger } from '../../logger.ts';
import type { BlobStorage } from '../../storage/blob-storage.ts';
import { createDocumentVersionRepository, type VersionOrigin } from '../document-version.repository.ts';
import { createDocumentRepository, storageKeyOf, type DocumentRow } from '../document.repository.ts';
import { ingestionJobs } from '../ingestion-jobs.ts';
import type { Connector, ItemContent } from './connector.ts';
import {
  createSourceRepository,
  type RunChanges,
  type RunTrigger,
  type SourceRow,
  type SourceRunRow,
} from './source.repository.ts';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The system actor of audit records a refresh writes (a user's request names the user in `details`). */
const REFRESH_ACTOR = null;

export interface RefreshRequest {
  trigger: RunTrigger;
  /** A scheduled run's tick: a tick runs once, whichever worker's job comes first. */
  tick?: number | undefined;
  requestedBy?: string | undefined;
  /** Only this document (a re-index of one page): fetched again even when its marker says unchanged. */
  documentId?: string | undefined;
}

/**
 * Keeps a source's documents in step with it, through its connector (connector.ts): new items become
 * documents, changed ones (by marker, then by content hash) new versions of theirs, vanished ones are
 * retired (out of search, with the reason), unchanged ones cost nothing — no version, no embedding.
 * Each change commits with its audit record and its indexing job (the outbox), and the indexing job
 * swaps a document's chunks in one transaction: search sees the old passages or the new, never both
 * nor neither. Every run is recorded (source_runs) with what it changed and what failed.
 */
export function createRefreshService(deps: {
  db: Database;
  storage: BlobStorage;
  outbox: Outbox<JobMap>;
  connectorFor: (source: SourceRow) => Promise<Connector>;
  publish: (doc: DocumentRow) => Promise<void>;
  logger: Logger;
}) {
  const { db, storage, outbox, publish, logger } = deps;

  async function commit<T>(work: (tx: Queryable) => Promise<{ result: T; jobs: OutboxJob<JobMap>[] }>): Promise<T> {
    const { result, jobs } = await db.transaction(async (tx) => {
      const done = await work(tx);
      await outbox.add(tx, done.jobs);
      return done;
    });
    outbox.dispatch(jobs);
    return result;
  }

  async function publishById(id: string) {
    const doc = await createDocumentRepository(db).findById(id);
    if (doc) await publish(doc);
  }

  function originOf(trigger: RunTrigger): VersionOrigin {
    return trigger === 'schedule'
      ? 'schedule'
      : trigger === 'reimport'
        ? 'reimport'
        : trigger === 'reindex'
          ? 'reindex'
          : 'refresh';
  }

  /** One item against its document (if any): what changed, written and queued. */
  async function reconcile(
    source: SourceRow,
    run: SourceRunRow,
    request: RefreshRequest,
    connector: Connector,
    key: string,
    listedMarker: string | null,
    doc: DocumentRow | undefined,
    latestHash: string | null | undefined,
    changes: RunChanges,
    root: DocumentRow | undefined,
  ): Promise<void> {
    const forced = request.documentId !== undefined;
    if (doc && !doc.retired_reason && !forced && listedMarker !== null && listedMarker === doc.source_marker) {
      changes.unchanged += 1;
      return;
    }
    // A retired or forced document is fetched in full: a 304 would not bring it back or re-read it.
    const known = doc && !doc.retired_reason && !forced ? { marker: doc.source_marker } : undefined;
    let content: ItemContent;
    try {
      content = await connector.fetch(key, known);
    } catch (error) {
      changes.failures.push({ key, reason: (error as Error).message });
      return;
    }
    const documents = createDocumentRepository(db);
    if (content.state === 'gone') {
      if (doc && !doc.retired_reason) {
        await commit(async (tx) => {
          await createDocumentRepository(tx).retire(doc.id, content.reason);
          await appendAudit(tx, {
            action: 'document.retired',
            actor: REFRESH_ACTOR,
            target: { type: 'document', id: doc.id },
            details: { sourceId: source.id, key, reason: content.reason, runId: run.id },
          });
          return { result: undefined, jobs: [] };
        });
        changes.retired += 1;
        await publishById(doc.id);
      }
      return;
    }
    if (content.state === 'unchanged') {
      if (doc) await documents.setMarker(doc.id, content.marker);
      await reparseIfAsked(doc, request, changes);
      return;
    }
    if (!content.mime) {
      changes.failures.push({ key, reason: 'This file type cannot be indexed' });
      return;
    }
    const hash = sha256(content.bytes);
    if (doc && latestHash === hash) {
      await documents.setMarker(doc.id, content.marker);
      if (doc.retired_reason) {
        // Back as it was: its chunks are still those of this content.
        await commit(async (tx) => {
          await createDocumentRepository(tx).replaceContent(doc.id, {
            storageKey: doc.storage_key ?? storageKeyOf(doc.id),
            sizeBytes: Number(doc.size_bytes),
            mime: content.mime!,
            marker: content.marker,
          });
          return { result: undefined, jobs: [] };
        });
      }
      await reparseIfAsked(doc, request, changes);
      return;
    }
    const origin = originOf(request.trigger);
    if (doc) {
      // A new blob per version: the current one stays readable until the new version commits.
      const blob = `documents/${doc.id}/${randomUUID()}`;
      const stored = await storage.put(blob, content.bytes);
      const committed = await commit(async (tx) => {
        const version = await createDocumentRepository(tx).replaceContent(doc.id, {
          storageKey: blob,
          sizeBytes: stored.size,
          mime: content.mime!,
          marker: content.marker,
          title: content.title,
        });
        if (version === undefined) return { result: false, jobs: [] };
        const number = await createDocumentVersionRepository(tx).add({
          documentId: doc.id,
          contentHash: hash,
          sizeBytes: stored.size,
          indexVersion: version,
          origin,
          createdBy: request.requestedBy ?? null,
          runId: run.id,
        });
        await appendAudit(tx, {
          action: 'document.version_created',
          actor: REFRESH_ACTOR,
          target: { type: 'document', id: doc.id },
          details: {
            sourceId: source.id,
            key,
            number,
            sha256: hash,
            origin,
            runId: run.id,
            requestedBy: request.requestedBy ?? null,
          },
        });
        return { result: true, jobs: ingestionJobs([{ id: doc.id, version }]) };
      });
      if (!committed) {
        await storage.delete(blob);
        return;
      }
      if (doc.storage_key && doc.storage_key !== blob) await storage.delete(doc.storage_key).catch(() => {});
      changes.updated += 1;
      await publishById(doc.id);
      return;
    }
    const id = randomUUID();
    const blob = storageKeyOf(id);
    const stored = await storage.put(blob, content.bytes);
    const web = source.kind !== 'folder';
    const created = await commit(async (tx) => {
      const { document, created } = await createDocumentRepository(tx).insertUnlessDuplicate({
        id,
        collectionId: source.collection_id,
        title: content.title ?? key,
        source: web ? 'url' : 'folder',
        sourceUrl: web ? key : null,
        sourceId: source.id,
        sourceKey: key,
        sourceMarker: content.marker,
        mime: content.mime!,
        sizeBytes: stored.size,
        // Identity by source and key (the content changes from version to version).
        sha256: sha256(`source\n${source.id}\n${key}`),
        contentHash: hash,
        storageKey: blob,
        metadata: web && root ? { crawledFrom: root.id } : { path: key },
        createdBy: request.requestedBy ?? source.created_by,
        parentId: web ? (root?.id ?? null) : null,
        // A crawled page is read by whoever may read the page it was crawled from.
        groups: root?.readers === 'groups' ? root.groups.map((g) => g.id) : undefined,
      });
      if (!created) return { result: undefined, jobs: [] };
      await appendAudit(tx, {
        action: 'document.created',
        actor: REFRESH_ACTOR,
        target: { type: 'document', id },
        details: {
          collectionId: source.collection_id,
          title: document.title,
          source: document.source,
          sourceId: source.id,
          key,
          runId: run.id,
        },
      });
      return { result: document, jobs: ingestionJobs([{ id, version: document.version }]) };
    });
    if (!created) {
      await storage.delete(blob);
      return;
    }
    changes.added += 1;
    await publish(created);
  }

  /** A re-index asked for a document whose content has not changed: parse and embed it again all the same. */
  async function reparseIfAsked(doc: DocumentRow | undefined, request: RefreshRequest, changes: RunChanges) {
    changes.unchanged += 1;
    if (!doc || request.trigger !== 'reindex') return;
    await commit(async (tx) => {
      const version = await createDocumentRepository(tx).bumpVersion(doc.id);
      return { result: undefined, jobs: version === undefined ? [] : ingestionJobs([{ id: doc.id, version }]) };
    });
    await publishById(doc.id);
  }

  return {
    /**
     * Refreshes a source. Undefined when it did not run: the source is gone, another run of it is
     * under way, or this tick's run happened already.
     */
    async refresh(sourceId: string, request: RefreshRequest): Promise<SourceRunRow | undefined> {
      const sources = createSourceRepository(db);
      const source = await sources.find(sourceId);
      if (!source) return undefined;
      const run = await sources.startRun({
        sourceId,
        trigger: request.trigger,
        tick: request.tick ?? null,
        requestedBy: request.requestedBy ?? null,
      });
      if (!run) return undefined;
      const changes: RunChanges = { added: 0, updated: 0, unchanged: 0, retired: 0, failures: [] };
      let error: string | null = null;
      try {
        const connector = await deps.connectorFor(source);
        const docs = await createDocumentRepository(db).listBySource(source.id);
        const byKey = new Map(docs.filter((d) => d.source_key).map((d) => [d.source_key!, d]));
        const hashes = await createDocumentVersionRepository(db).latestHashes(docs.map((d) => d.id));
        const root = source.kind === 'folder' ? undefined : byKey.get(source.location);
        const target = request.documentId ? docs.find((d) => d.id === request.documentId) : undefined;
        const listed = target
          ? { items: [{ key: target.source_key!, marker: null }], failures: [] }
          : await connector.list();
        changes.failures.push(...listed.failures);
        const seen = new Set<string>();
        for (const item of listed.items) {
          seen.add(item.key);
          const doc = byKey.get(item.key);
          await reconcile(
            source,
            run,
            request,
            connector,
            item.key,
            item.marker,
            doc,
            doc && hashes.get(doc.id),
            changes,
            root,
          );
        }
        // What the listing no longer shows is asked for directly: gone (retired), or still there.
        if (!target) {
          for (const doc of docs) {
            if (!doc.source_key || seen.has(doc.source_key) || doc.retired_reason) continue;
            await reconcile(
              source,
              run,
              request,
              connector,
              doc.source_key,
              null,
              doc,
              hashes.get(doc.id),
              changes,
              root,
            );
          }
        }
      } catch (failure) {
        error = (failure as Error).message;
        logger.warn({ sourceId, err: failure }, 'source refresh failed');
      }
      await sources.finishRun(run.id, { status: error ? 'failed' : 'ok', error, changes });
      logger.info(
        { sourceId, trigger: request.trigger, ...changes, failures: changes.failures.length },
        'source refreshed',
      );
      return { ...run, status: error ? 'failed' : 'ok', error, changes, finished_at: new Date() };
    },
  };
}

export type RefreshService = ReturnType<typeof createRefreshService>;
