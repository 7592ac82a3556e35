import type { Queryable } from '../db/database.ts';

export type DocumentSource = 'upload' | 'text' | 'url' | 'faq';
export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed' | 'disabled';

export interface DocumentRow {
  id: string;
  collection_id: string;
  title: string;
  source: DocumentSource;
  source_url: string | null;
  mime: string;
  size_bytes: number;
  sha256: string;
  storage_key: string | null;
  status: DocumentStatus;
  error: string | null;
  progress: number;
  chunk_count: number;
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
  groups: { id: string; name: string }[];
}

// A DocumentRow from rows named `d`: the table, or a writing statement's RETURNING * (so a write
// hands back the row it wrote instead of a second round trip to read it).
const COLUMNS = `d.*, d.size_bytes::float8 AS size_bytes,
    COALESCE((SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name)
                FROM document_groups dg JOIN groups g ON g.id = dg.group_id WHERE dg.document_id = d.id), '[]') AS groups`;
const SELECT = `SELECT ${COLUMNS} FROM documents d`;
const returningRow = (write: string) => `WITH d AS (${write} RETURNING *) SELECT ${COLUMNS} FROM d`;

export interface NewDocument {
  collectionId: string;
  title: string;
  source: DocumentSource;
  sourceUrl?: string | null;
  mime: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string | null;
  metadata?: Record<string, unknown>;
  createdBy: string | null;
  parentId?: string | null;
  id?: string;
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
      const { rows } = await db.query<DocumentRow>(
        returningRow(`INSERT INTO documents (id, collection_id, title, source, source_url, mime, size_bytes, sha256, storage_key, metadata, created_by, parent_id)
         VALUES (COALESCE($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (collection_id, sha256) DO NOTHING`),
        [
          doc.id ?? null,
          doc.collectionId,
          doc.title,
          doc.source,
          doc.sourceUrl ?? null,
          doc.mime,
          doc.sizeBytes,
          doc.sha256,
          doc.storageKey,
          JSON.stringify(doc.metadata ?? {}),
          doc.createdBy,
          doc.parentId ?? null,
        ],
      );
      if (rows[0]) return { document: rows[0], created: true };
      const existing = await db.query<DocumentRow>(`${SELECT} WHERE d.collection_id = $1 AND d.sha256 = $2`, [doc.collectionId, doc.sha256]);
      return { document: existing.rows[0]!, created: false };
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
      page: { after?: { at: string; id: string }; limit: number; status?: DocumentStatus | undefined },
    ): Promise<DocumentRow[]> {
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
      const { rows } = await db.query<DocumentRow>(
        `${SELECT} WHERE ${where} ORDER BY d.created_at DESC, d.id DESC LIMIT $${params.length}`,
        params,
      );
      return rows;
    },
    /**
     * Marks a version processing and returns the row, unless the document is gone, at another
     * version (a re-index superseded the job) or this version is already indexed (a duplicate delivery).
     */
    async claim(id: string, version: number): Promise<DocumentRow | undefined> {
      const { rows } = await db.query<DocumentRow>(
        returningRow(`UPDATE documents SET status = 'processing', progress = 0.05, error = NULL,
           started_at = COALESCE(started_at, now()), updated_at = now()
         WHERE id = $1 AND version = $2 AND NOT (indexed_version = $2 AND status = 'ready')`),
        [id, version],
      );
      return rows[0];
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
    async setGroups(id: string, groupIds: string[]): Promise<void> {
      await db.query('DELETE FROM document_groups WHERE document_id = $1', [id]);
      if (groupIds.length) {
        await db.query('INSERT INTO document_groups (document_id, group_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING', [
          id,
          groupIds,
        ]);
      }
    },
    async setStorage(id: string, storage: { storageKey: string; sizeBytes: number; mime: string }): Promise<void> {
      await db.query('UPDATE documents SET storage_key = $2, size_bytes = $3, mime = $4, updated_at = now() WHERE id = $1', [
        id,
        storage.storageKey,
        storage.sizeBytes,
        storage.mime,
      ]);
    },
    async delete(id: string): Promise<DocumentRow | undefined> {
      const { rows } = await db.query<DocumentRow>('DELETE FROM documents WHERE id = $1 RETURNING *', [id]);
      return rows[0];
    },
    /** Documents whose ingestion had not finished (a restart re-enqueues them). */
    async pending(): Promise<{ id: string; version: number }[]> {
      const { rows } = await db.query<{ id: string; version: number }>(
        `SELECT id, version FROM documents WHERE status IN ('queued', 'processing') ORDER BY created_at`,
      );
      return rows;
    },
    async allIds(): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM documents ORDER BY created_at');
      return rows.map((r) => r.id);
    },
    async countChildren(parentId: string): Promise<number> {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM documents WHERE parent_id = $1', [parentId]);
      return rows[0]?.n ?? 0;
    },
  };
}

export type DocumentRepository = ReturnType<typeof createDocumentRepository>;

/**
 * Marks a version indexed, first in the transaction that replaces its chunks: the update locks the
 * row until the commit (a delete or re-index waits) and applies only while the document is still
 * at `version`. Returns the updated row, or undefined when the document was deleted or re-indexed
 * meanwhile (the chunks must then not be written).
 */
export async function markIndexed(db: Queryable, id: string, version: number, chunkCount: number, done = true): Promise<DocumentRow | undefined> {
  // `done` false: chunks are in, but the job goes on (a crawl root stays processing until its pages are in).
  const { rows } = await db.query<DocumentRow>(
    returningRow(`UPDATE documents SET status = CASE WHEN $4 THEN 'ready' ELSE 'processing' END, progress = CASE WHEN $4 THEN 1 ELSE 0.5 END,
       error = NULL, chunk_count = $3, indexed_version = $2, finished_at = CASE WHEN $4 THEN now() ELSE NULL END, updated_at = now()
     WHERE id = $1 AND version = $2`),
    [id, version, chunkCount, done],
  );
  return rows[0];
}

/** Every document to a new version, queued (a re-embed): old-version jobs become no-ops. */
export async function requeueAllDocuments(db: Queryable): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE documents SET version = version + 1, status = 'queued', progress = 0, error = NULL, started_at = NULL,
       finished_at = NULL, updated_at = now()`,
  );
  return rowCount;
}
