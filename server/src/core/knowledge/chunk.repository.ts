import type { Queryable } from '../db/database.ts';
import { toVectorLiteral } from '../llm/embedding-provider.ts';

export interface NewChunk {
  ord: number;
  text: string;
  tokenCount: number;
  metadata: Record<string, unknown>;
  embedding: number[];
  /** A tsvector literal (see tokenize.ts tsvectorLiteral). */
  tsv: string;
  kind: 'passage' | 'faq';
  /** The instruction-like rules the passage trips (text/instruction-like.ts). */
  flags: string[];
}

export interface ChunkRow {
  id: number;
  document_id: string;
  collection_id: string;
  ord: number;
  text: string;
  token_count: number;
  metadata: { page?: number; headings?: string[] };
  kind: 'passage' | 'faq';
  flags: string[];
  /** An admin took it out of retrieval. */
  excluded: boolean;
}

const CHUNK_COLUMNS = 'id, document_id, collection_id, ord, text, token_count, metadata, kind, flags, excluded';

// Small statements: on PGlite each one runs on the event loop (WASM), so big ones would stall it.
const INSERT_BATCH = 25;

export function createChunkRepository(db: Queryable) {
  return {
    async deleteForDocuments(documentIds: string[]): Promise<number> {
      const { rowCount } = await db.query('DELETE FROM chunks WHERE document_id = ANY($1::uuid[])', [documentIds]);
      return rowCount;
    },
    /**
     * The texts of the passages an admin excluded, per document: a re-index replaces the chunks,
     * and a passage that comes back word for word stays excluded.
     */
    async excludedTexts(documentIds: string[]): Promise<Map<string, Set<string>>> {
      const { rows } = await db.query<{ document_id: string; text: string }>(
        'SELECT document_id, text FROM chunks WHERE document_id = ANY($1::uuid[]) AND excluded',
        [documentIds],
      );
      const byDocument = new Map<string, Set<string>>();
      for (const r of rows) byDocument.set(r.document_id, (byDocument.get(r.document_id) ?? new Set()).add(r.text));
      return byDocument;
    },
    /**
     * Bulk insert through arrays (one statement per batch, across documents; vectors and tsvectors
     * as text). `excluded`: per document, the texts to insert as excluded.
     */
    async insertMany(
      documents: { documentId: string; collectionId: string; chunks: NewChunk[] }[],
      excluded: Map<string, Set<string>> = new Map(),
    ): Promise<void> {
      const rows = documents.flatMap((d) => d.chunks.map((chunk) => ({ ...d, chunk })));
      for (let i = 0; i < rows.length; i += INSERT_BATCH) {
        const batch = rows.slice(i, i + INSERT_BATCH);
        await db.query(
          `INSERT INTO chunks (document_id, collection_id, ord, text, token_count, metadata, embedding, tsv, kind, flags, excluded)
           SELECT u.document_id, u.collection_id, u.ord, u.text, u.tokens, u.meta::jsonb, u.emb::vector, u.tsv::tsvector, u.kind,
                  ARRAY(SELECT jsonb_array_elements_text(u.flags::jsonb)), u.excluded
           FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::boolean[])
             AS u(document_id, collection_id, ord, text, tokens, meta, emb, tsv, kind, flags, excluded)`,
          [
            batch.map((r) => r.documentId),
            batch.map((r) => r.collectionId),
            batch.map((r) => r.chunk.ord),
            batch.map((r) => r.chunk.text),
            batch.map((r) => r.chunk.tokenCount),
            batch.map((r) => JSON.stringify(r.chunk.metadata)),
            batch.map((r) => toVectorLiteral(r.chunk.embedding)),
            batch.map((r) => r.chunk.tsv),
            batch.map((r) => r.chunk.kind),
            // A list per row: text[][] must be rectangular, so each travels as JSON.
            batch.map((r) => JSON.stringify(r.chunk.flags)),
            batch.map((r) => excluded.get(r.documentId)?.has(r.chunk.text) ?? false),
          ],
        );
      }
    },
    /** `flaggedOnly`: only the passages flagged as instruction-like. */
    async listByDocument(
      documentId: string,
      page: { afterOrd?: number; limit: number; flaggedOnly?: boolean },
    ): Promise<ChunkRow[]> {
      const { rows } = await db.query<ChunkRow>(
        `SELECT ${CHUNK_COLUMNS} FROM chunks
         WHERE document_id = $1 AND ord > $2 AND ($4::boolean IS NOT TRUE OR cardinality(flags) > 0) ORDER BY ord LIMIT $3`,
        [documentId, page.afterOrd ?? -1, page.limit, page.flaggedOnly ?? false],
      );
      return rows;
    },
    /** Takes a passage of the document out of retrieval or puts it back; undefined when there is no such passage. */
    async setExcluded(documentId: string, chunkId: string, excluded: boolean): Promise<ChunkRow | undefined> {
      const { rows } = await db.query<ChunkRow>(
        `UPDATE chunks SET excluded = $3 WHERE document_id = $1 AND id = $2::bigint RETURNING ${CHUNK_COLUMNS}`,
        [documentId, chunkId, excluded],
      );
      return rows[0];
    },
    async count(): Promise<number> {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks');
      return rows[0]!.n;
    },
    async countForDocument(documentId: string): Promise<number> {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE document_id = $1', [
        documentId,
      ]);
      return rows[0]?.n ?? 0;
    },
  };
}
