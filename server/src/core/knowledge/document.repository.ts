import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { creationPositionSql, type Positioned } from '../pagination/creation-position.sql.ts';
import type { CreationKey } from '../pagination/cursor.ts';
import { collectionReadableSql, passageReadableSql, proposedReadersSql } from '../policy/read-rules.sql.ts';

/** Where a document's original bytes are kept in blob storage (`storage_key`). */
export function storageKeyOf(documentId: string): string {
  return `documents/${documentId}/original`;
}

export type DocumentSource = 'upload' | 'text' | 'url' | 'faq' | 'folder';
/** Who reads a document: its collection's readers, or only those of them in its groups (none left: admins only). */
export type DocumentReaders = 'collection' | 'groups';
export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed' | 'disabled';

export interface DocumentRow {
  id: string;
  collection_id: string;
  title: string;
  source: DocumentSource;
  source_url: string | null;
  /** The source it is kept in step with (a URL, a crawled site, a folder), and its stable key there. */
  source_id: string | null;
  source_key: string | null;
  /** The change marker the last fetch saw (ETag / Last-Modified, a file's size and time). */
  source_marker: string | null;
  /** Why a refresh took it out of search (the page is gone, the file was removed): a RetiredReason code. */
  retired_reason: string | null;
  mime: string;
  size_bytes: number;
  sha256: string;
  storage_key: string | null;
  status: DocumentStatus;
  error: string | null;
  progress: number;
  chunk_count: number;
  /** Passages flagged as instruction-like at ingestion, and how many of them an admin excluded. */
  flagged_chunks: number;
  excluded_flagged_chunks: number;
  version: number;
  indexed_version: number;
  enabled: boolean;
  parent_id: string | null;
  page_count: number | null;
  metadata: Record<string, unknown>;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  readers: DocumentReaders;
  groups: { id: string; name: string }[];
}

// A DocumentRow from rows named `d`: the table, or a writing statement's RETURNING * (so a write
// hands back the row it wrote instead of a second round trip to read it).
const COLUMNS = `d.*, d.size_bytes::float8 AS size_bytes,
    (SELECT count(*)::int FROM chunks fc WHERE fc.document_id = d.id AND cardinality(fc.flags) > 0) AS flagged_chunks,
    (SELECT count(*)::int FROM chunks fc WHERE fc.document_id = d.id AND cardinality(fc.flags) > 0 AND fc.excluded) AS excluded_flagged_chunks,
    COALESCE((SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name)
                FROM document_groups dg JOIN groups g ON g.id = dg.group_id WHERE dg.document_id = d.id), '[]') AS groups`;
const SELECT = `SELECT ${COLUMNS} FROM documents d`;
// `columns`: `documents.*` for an UPDATE … FROM, whose `*` would add the joined columns.
const returningRow = (write: string, columns = '*') =>
  `WITH d AS (${write} RETURNING ${columns}) SELECT ${COLUMNS} FROM d`;

export interface NewDocument {
  collectionId: string;
  title: string;
  source: DocumentSource;
  sourceUrl?: string | null;
  sourceId?: string | null;
  sourceKey?: string | null;
  sourceMarker?: string | null;
  mime: string;
  sizeBytes: number;
  sha256: string;
  /** The first version's content hash when it differs from `sha256` (a key's hash); null: not fetched yet. */
  contentHash?: string | null;
  storageKey: string | null;
  metadata?: Record<string, unknown>;
  createdBy: string | null;
  parentId?: string | null;
  id?: string;
  /** Narrows its readers to these groups from the insert on (an empty list: admins only); absent: the collection's readers. */
  groups?: string[] | undefined;
}

export interface ProgressUpdate {
  status?: DocumentStatus;
  progress?: number;
  error?: string | null;
  pageCount?: number | null;
  title?: string;
}

export function createDocumentRepository(db: Queryable) {
  return {
    /** Inserts unless the collection already holds the same content; `created` tells which. */
    async insertUnlessDuplicate(doc: NewDocument): Promise<{ document: DocumentRow; created: boolean }> {
      return (await this.insertManyUnlessDuplicate([doc]))[0]!;
    },
    /**
     * One statement for many documents (a bulk import). Each comes back, in order, as the row it
     * became or the row that already held its content (`created` false) — in the collection
     * before, or earlier in the same list. A new document's groups are written in the same
     * transaction, and its readers mode by the insert itself: it is never readable more widely.
     */
    async insertManyUnlessDuplicate(docs: NewDocument[]): Promise<{ document: DocumentRow; created: boolean }[]> {
      const withIds = docs.map((d) => ({ ...d, id: d.id ?? randomUUID() }));
      const { rows: inserted } = await db.query<DocumentRow>(
        returningRow(`INSERT INTO documents (id, collection_id, title, source, source_url, mime, size_bytes, sha256, storage_key, metadata, created_by, parent_id, readers, source_id, source_key, source_marker)
         SELECT u.id, u.collection_id, u.title, u.source, u.source_url, u.mime, u.size_bytes, u.sha256, u.storage_key, u.metadata::jsonb, u.created_by, u.parent_id, u.readers, u.source_id, u.source_key, u.source_marker
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::uuid[], $12::uuid[], $13::text[], $14::uuid[], $15::text[], $16::text[])
           AS u(id, collection_id, title, source, source_url, mime, size_bytes, sha256, storage_key, metadata, created_by, parent_id, readers, source_id, source_key, source_marker)
         ON CONFLICT (collection_id, sha256) DO NOTHING`),
        [
          withIds.map((d) => d.id),
          withIds.map((d) => d.collectionId),
          withIds.map((d) => d.title),
          withIds.map((d) => d.source),
          withIds.map((d) => d.sourceUrl ?? null),
          withIds.map((d) => d.mime),
          withIds.map((d) => d.sizeBytes),
          withIds.map((d) => d.sha256),
          withIds.map((d) => d.storageKey),
          withIds.map((d) => JSON.stringify(d.metadata ?? {})),
          withIds.map((d) => d.createdBy),
          withIds.map((d) => d.parentId ?? null),
          withIds.map((d) => (d.groups ? 'groups' : 'collection')),
          withIds.map((d) => d.sourceId ?? null),
          withIds.map((d) => d.sourceKey ?? null),
          withIds.map((d) => d.sourceMarker ?? null),
        ],
      );
      const created = new Set(inserted.map((r) => r.id));
      // Each new document's first version, in the same transaction.
      const first = withIds.filter((d) => created.has(d.id));
      if (first.length) {
        await db.query(
          `INSERT INTO document_versions (document_id, number, content_hash, size_bytes, index_version, origin, created_by)
           SELECT u.id, 1, u.hash, u.size, 1, 'import', u.created_by
             FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[]) AS u(id, hash, size, created_by)`,
          [
            first.map((d) => d.id),
            first.map((d) => (d.contentHash === undefined ? d.sha256 : d.contentHash)),
            first.map((d) => d.sizeBytes),
            first.map((d) => d.createdBy),
          ],
        );
      }
      const narrowed = withIds.filter((d) => created.has(d.id) && d.groups?.length);
      if (narrowed.length) {
        await db.query(
          'INSERT INTO document_groups (document_id, group_id) SELECT * FROM unnest($1::uuid[], $2::uuid[]) ON CONFLICT DO NOTHING',
          [narrowed.flatMap((d) => d.groups!.map(() => d.id)), narrowed.flatMap((d) => d.groups!)],
        );
        // The rows above were read before their groups existed.
        const { rows } = await db.query<DocumentRow>(`${SELECT} WHERE d.id = ANY($1::uuid[])`, [
          narrowed.map((d) => d.id),
        ]);
        for (const row of rows)
          inserted.splice(
            inserted.findIndex((r) => r.id === row.id),
            1,
            row,
          );
      }
      const key = (collectionId: string, sha256: string) => `${collectionId}/${sha256}`;
      const holders = new Map(inserted.map((r) => [key(r.collection_id, r.sha256), r]));
      const others = withIds.filter((d) => !holders.has(key(d.collectionId, d.sha256)));
      if (others.length) {
        const { rows } = await db.query<DocumentRow>(
          `${SELECT} WHERE (d.collection_id, d.sha256) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))`,
          [others.map((d) => d.collectionId), others.map((d) => d.sha256)],
        );
        for (const r of rows) holders.set(key(r.collection_id, r.sha256), r);
      }
      return withIds.map((d) => ({
        document: holders.get(key(d.collectionId, d.sha256))!,
        created: created.has(d.id),
      }));
    },
    async findById(id: string): Promise<DocumentRow | undefined> {
      const { rows } = await db.query<DocumentRow>(`${SELECT} WHERE d.id = $1`, [id]);
      return rows[0];
    },
    /** Locks the row for the rest of the transaction (indexing vs. re-index/delete). */
    async lockForUpdate(id: string): Promise<{ version: number; status: DocumentStatus } | undefined> {
      const { rows } = await db.query<{ version: number; status: DocumentStatus }>(
        'SELECT version, status FROM documents WHERE id = $1 FOR UPDATE',
        [id],
      );
      return rows[0];
    },
    async listByCollection(
      collectionId: string,
      page: { after?: CreationKey | undefined; limit: number; status?: DocumentStatus | undefined },
    ): Promise<(DocumentRow & Positioned)[]> {
      const params: unknown[] = [collectionId];
      let where = 'd.collection_id = $1';
      if (page.status) {
        params.push(page.status);
        where += ` AND d.status = $${params.length}`;
      }
      if (page.after) {
        params.push(page.after.at, page.after.id);
        where += ` AND (d.created_at, d.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
      }
      params.push(page.limit);
      const { rows } = await db.query<DocumentRow & Positioned>(
        `SELECT ${COLUMNS}, ${creationPositionSql('d')} FROM documents d WHERE ${where} ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length}`,
        params,
      );
      return rows;
    },
    /**
     * Marks a version processing and returns the row, unless the document is gone, at another
     * version (a re-index superseded the job), this version is already indexed (a duplicate
     * delivery) or it failed for good.
     */
    async claim(id: string, version: number): Promise<DocumentRow | undefined> {
      return (await this.claimMany([id], version))[0];
    },
    /** `claim` for many documents at one version in one statement: the rows claimed, in no particular order. */
    async claimMany(ids: string[], version: number): Promise<DocumentRow[]> {
      const { rows } = await db.query<DocumentRow>(
        returningRow(`UPDATE documents SET status = 'processing', progress = 0.05, error = NULL,
           started_at = COALESCE(started_at, now()), updated_at = now()
         WHERE id = ANY($1::uuid[]) AND version = $2 AND status <> 'failed' AND NOT (indexed_version = $2 AND status = 'ready')`),
        [ids, version],
      );
      return rows;
    },
    /** Applies an update only while the document is still at `version` (a re-index supersedes old jobs); the updated row, if it applied. */
    async updateProgress(id: string, version: number, update: ProgressUpdate): Promise<DocumentRow | undefined> {
      const { rows } = await db.query<DocumentRow>(
        returningRow(`UPDATE documents SET
           status = COALESCE($3, status),
           progress = COALESCE($4, progress),
           error = CASE WHEN $5::boolean THEN $6 ELSE error END,
           page_count = COALESCE($7, page_count),
           title = COALESCE($8, title),
           started_at = CASE WHEN $3 = 'processing' AND started_at IS NULL THEN now() ELSE started_at END,
           finished_at = CASE WHEN $3 IN ('ready', 'failed') THEN now() ELSE finished_at END,
           updated_at = now()
         WHERE id = $1 AND version = $2`),
        [
          id,
          version,
          update.status ?? null,
          update.progress ?? null,
          update.error !== undefined,
          update.error ?? null,
          update.pageCount ?? null,
          update.title ?? null,
        ],
      );
      return rows[0];
    },
    /** New version, back to queued: the old version's jobs become no-ops. */
    async bumpVersion(id: string): Promise<number | undefined> {
      const { rows } = await db.query<{ version: number }>(
        `UPDATE documents SET version = version + 1, status = 'queued', progress = 0, error = NULL, started_at = NULL,
           finished_at = NULL, updated_at = now() WHERE id = $1 RETURNING version`,
        [id],
      );
      return rows[0]?.version;
    },
    async setEnabled(id: string, enabled: boolean): Promise<void> {
      await db.query('UPDATE documents SET enabled = $2, updated_at = now() WHERE id = $1', [id, enabled]);
    },
    /**
     * How many people a change of the document's readers would let in (`gain`) and shut out
     * (`lose`), by the read rule itself (its collection's readers still apply): active accounts only.
     */
    async readerChange(id: string, next: { readers: DocumentReaders; groups: string[] }) {
      const proposed = proposedReadersSql({ open: `$2::text = 'collection'`, groups: '$3::uuid[]' }, 'u.id');
      const { rows } = await db.query<{ gain: number; lose: number }>(
        `SELECT count(*) FILTER (WHERE reads_after AND NOT reads_before)::int AS gain,
                count(*) FILTER (WHERE reads_before AND NOT reads_after)::int AS lose
           FROM (SELECT ${passageReadableSql({ collection: 'd.collection_id', document: 'd.id' }, 'u.id')} AS reads_before,
                        ${collectionReadableSql('d.collection_id', 'u.id')} AND ${proposed} AS reads_after
                   FROM users u CROSS JOIN documents d WHERE d.id = $1 AND NOT u.disabled) r`,
        [id, next.readers, next.groups],
      );
      return rows[0]!;
    },
    async setReaders(id: string, readers: DocumentReaders, groupIds: string[] | undefined): Promise<void> {
      await db.query('UPDATE documents SET readers = $2, updated_at = now() WHERE id = $1', [id, readers]);
      if (groupIds) await this.setGroups(id, groupIds);
    },
    /** Pages crawled from `parentId` read as it does: its readers mode and groups, copied. Returns how many. */
    async copyReadersToChildren(parentId: string): Promise<number> {
      const { rowCount } = await db.query(
        `UPDATE documents c SET readers = p.readers, updated_at = now()
           FROM documents p WHERE p.id = $1 AND c.parent_id = $1`,
        [parentId],
      );
      await db.query(
        'DELETE FROM document_groups WHERE document_id IN (SELECT id FROM documents WHERE parent_id = $1)',
        [parentId],
      );
      await db.query(
        `INSERT INTO document_groups (document_id, group_id)
         SELECT c.id, pg.group_id FROM documents c JOIN document_groups pg ON pg.document_id = $1
          WHERE c.parent_id = $1 ON CONFLICT DO NOTHING`,
        [parentId],
      );
      return rowCount;
    },
    async setGroups(id: string, groupIds: string[]): Promise<void> {
      await db.query('DELETE FROM document_groups WHERE document_id = $1', [id]);
      if (groupIds.length) {
        await db.query(
          'INSERT INTO document_groups (document_id, group_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING',
          [id, groupIds],
        );
      }
    },
    async setStorage(id: string, storage: { storageKey: string; sizeBytes: number; mime: string }): Promise<void> {
      await db.query(
        'UPDATE documents SET storage_key = $2, size_bytes = $3, mime = $4, updated_at = now() WHERE id = $1',
        [id, storage.storageKey, storage.sizeBytes, storage.mime],
      );
    },
    /** The documents a source keeps in step, by their key there. */
    async listBySource(sourceId: string): Promise<DocumentRow[]> {
      const { rows } = await db.query<DocumentRow>(`${SELECT} WHERE d.source_id = $1 ORDER BY d.created_at`, [
        sourceId,
      ]);
      return rows;
    },
    /** The FAQ entries of a collection asked as these questions (their keys), by question. */
    async findFaqs(collectionId: string, questions: string[]): Promise<Map<string, DocumentRow>> {
      if (!questions.length) return new Map();
      const { rows } = await db.query<DocumentRow>(
        `${SELECT} WHERE d.collection_id = $1 AND d.source = 'faq' AND d.source_key = ANY($2::text[])`,
        [collectionId, questions],
      );
      return new Map(rows.map((r) => [r.source_key!, r]));
    },
    /**
     * New content for a document: a new indexing version, queued, over the bytes now in storage.
     * A retired document (its page or file had gone) comes back into search once it is indexed.
     * Returns the new indexing version (undefined: the document is gone).
     */
    async replaceContent(
      id: string,
      content: {
        storageKey: string;
        sizeBytes: number;
        mime: string;
        marker: string | null;
        title?: string | undefined;
        /** A FAQ entry's identity is its content hash (pasted entries are de-duplicated by it). */
        sha256?: string | undefined;
      },
    ): Promise<number | undefined> {
      const { rows } = await db.query<{ version: number }>(
        `UPDATE documents SET version = version + 1, status = 'queued', progress = 0, error = NULL, started_at = NULL,
           finished_at = NULL, storage_key = $2, size_bytes = $3, mime = $4, source_marker = $5, title = COALESCE($6, title),
           sha256 = COALESCE($7, sha256),
           enabled = enabled OR retired_reason IS NOT NULL, retired_reason = NULL, updated_at = now()
         WHERE id = $1 RETURNING version`,
        [
          id,
          content.storageKey,
          content.sizeBytes,
          content.mime,
          content.marker,
          content.title ?? null,
          content.sha256 ?? null,
        ],
      );
      return rows[0]?.version;
    },
    async setMarker(id: string, marker: string | null): Promise<void> {
      await db.query('UPDATE documents SET source_marker = $2 WHERE id = $1', [id, marker]);
    },
    /** Out of search with the reason shown; true unless it was retired already. */
    async retire(id: string, reason: string): Promise<boolean> {
      const { rowCount } = await db.query(
        `UPDATE documents SET enabled = false, retired_reason = $2, updated_at = now() WHERE id = $1 AND retired_reason IS NULL`,
        [id, reason],
      );
      return rowCount > 0;
    },
    async delete(id: string): Promise<DocumentRow | undefined> {
      const { rows } = await db.query<DocumentRow>('DELETE FROM documents WHERE id = $1 RETURNING *', [id]);
      return rows[0];
    },
    /** Documents whose ingestion had not finished (a restart re-enqueues them). */
    async pending(): Promise<{ id: string; version: number; batch: string | null }[]> {
      const { rows } = await db.query<{ id: string; version: number; batch: string | null }>(
        `SELECT id, version, metadata->>'batch' AS batch FROM documents WHERE status IN ('queued', 'processing') ORDER BY created_at`,
      );
      return rows;
    },
    /** How many documents are waiting for or in ingestion, indexed, failed (progress of a bulk ingest). */
    async statusCounts(): Promise<{ pending: number; ready: number; failed: number; total: number }> {
      const { rows } = await db.query<{ pending: number; ready: number; failed: number; total: number }>(
        `SELECT count(*) FILTER (WHERE status IN ('queued', 'processing'))::int AS pending,
                count(*) FILTER (WHERE status = 'ready')::int AS ready,
                count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*)::int AS total
           FROM documents`,
      );
      return rows[0]!;
    },
    async allIds(): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM documents ORDER BY created_at');
      return rows.map((r) => r.id);
    },
  };
}

export type DocumentRepository = ReturnType<typeof createDocumentRepository>;

export interface Indexed {
  id: string;
  version: number;
  chunkCount: number;
  /** False: chunks are in, but the job goes on (a crawl root stays processing until its pages are in). */
  done: boolean;
}

/**
 * Marks versions indexed, first in the transaction that replaces their chunks: the update locks
 * the rows until the commit (a delete or re-index waits) and applies only to documents still at
 * their `version`. Returns the updated rows; a document deleted or re-indexed meanwhile is missing
 * (its chunks must then not be written).
 */
export async function markIndexed(db: Queryable, items: Indexed[]): Promise<DocumentRow[]> {
  const { rows } = await db.query<DocumentRow>(
    returningRow(
      `UPDATE documents SET status = CASE WHEN v.done THEN 'ready' ELSE 'processing' END,
       progress = CASE WHEN v.done THEN 1 ELSE 0.5 END, error = NULL, chunk_count = v.chunks, indexed_version = v.version,
       finished_at = CASE WHEN v.done THEN now() ELSE NULL END, updated_at = now()
     FROM unnest($1::uuid[], $2::int[], $3::int[], $4::boolean[]) AS v(id, version, chunks, done)
     WHERE documents.id = v.id AND documents.version = v.version`,
      'documents.*',
    ),
    [items.map((i) => i.id), items.map((i) => i.version), items.map((i) => i.chunkCount), items.map((i) => i.done)],
  );
  return rows;
}

/** Every document to a new version, queued (a re-embed): old-version jobs become no-ops. */
export async function requeueAllDocuments(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE documents SET version = version + 1, status = 'queued', progress = 0, error = NULL, started_at = NULL,
       finished_at = NULL, updated_at = now()`,
  );
  return rowCount;
}
