import type { Queryable } from '../db/database.ts';

export type VersionOrigin = 'import' | 'reimport' | 'refresh' | 'schedule' | 'reindex';

export interface DocumentVersionRow {
  document_id: string;
  number: number;
  content_hash: string | null;
  size_bytes: number;
  index_version: number;
  origin: VersionOrigin;
  created_by: string | null;
  /** The name of the user who made it (an import, a "refresh now"), null for a schedule's. */
  created_by_name: string | null;
  run_id: string | null;
  created_at: Date;
}

/** The content versions of documents (migration 018); the first is written with the document. */
export function createDocumentVersionRepository(db: Queryable) {
  return {
    /** The newest version's hash: what a fetched copy is compared with. */
    async latestHashes(documentIds: string[]): Promise<Map<string, string | null>> {
      const { rows } = await db.query<{ document_id: string; content_hash: string | null }>(
        `SELECT DISTINCT ON (document_id) document_id, content_hash FROM document_versions
          WHERE document_id = ANY($1::uuid[]) ORDER BY document_id, number DESC`,
        [documentIds],
      );
      return new Map(rows.map((r) => [r.document_id, r.content_hash]));
    },
    async add(version: {
      documentId: string;
      contentHash: string;
      sizeBytes: number;
      indexVersion: number;
      origin: VersionOrigin;
      createdBy: string | null;
      runId: string | null;
    }): Promise<number> {
      const { rows } = await db.query<{ number: number }>(
        `INSERT INTO document_versions (document_id, number, content_hash, size_bytes, index_version, origin, created_by, run_id)
         SELECT $1, COALESCE(max(number), 0) + 1, $2, $3, $4, $5, $6, $7 FROM document_versions WHERE document_id = $1
         RETURNING number`,
        [
          version.documentId,
          version.contentHash,
          version.sizeBytes,
          version.indexVersion,
          version.origin,
          version.createdBy,
          version.runId,
        ],
      );
      return rows[0]!.number;
    },
    /** A URL import's first fetch: the hash of what its first version turned out to be. */
    async setFirstHash(documentId: string, contentHash: string, sizeBytes: number): Promise<void> {
      await db.query(
        'UPDATE document_versions SET content_hash = $2, size_bytes = $3 WHERE document_id = $1 AND content_hash IS NULL',
        [documentId, contentHash, sizeBytes],
      );
    },
    async list(documentId: string): Promise<DocumentVersionRow[]> {
      const { rows } = await db.query<DocumentVersionRow>(
        `SELECT v.*, v.size_bytes::float8 AS size_bytes, u.name AS created_by_name
           FROM document_versions v LEFT JOIN users u ON u.id = v.created_by
          WHERE v.document_id = $1 ORDER BY v.number DESC`,
        [documentId],
      );
      return rows;
    },
  };
}
