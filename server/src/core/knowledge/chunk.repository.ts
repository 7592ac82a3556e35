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
}

// Small statements: on PGlite each one runs on the event loop (WASM), so big ones would stall it.
const INSERT_BATCH = 25;

export function createChunkRepository(db: Queryable) {
  return {
    async deleteForDocuments(documentIds: string[]): Promise<number> {
      const { rowCount } = await db.query('DELETE FROM chunks WHERE document_id = ANY($1::uuid[])', [documentIds]);
      return rowCount;
    },
    /** Bulk insert through arrays (one statement per batch, across documents; vectors and tsvectors as text). */
    async insertMany(documents: { documentId: string; collectionId: string; chunks: NewChunk[] }[]): Promise<void> {
      const rows = documents.flatMap((d) => d.chunks.map((chunk) => ({ ...d, chunk })));
      for (let i = 0; i < rows.length; i += INSERT_BATCH) {
        const batch = rows.slice(i, i + INSERT_BATCH);
        await db.query(
          `INSERT INTO chunks (document_id, collection_id, ord, text, token_count, metadata, embedding, tsv, kind)
           SELECT u.document_id, u.collection_id, u.ord, u.text, u.tokens, u.meta::jsonb, u.emb::vector, u.tsv::tsvector, u.kind
           FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[])
             AS u(document_id, collection_id, ord, text, tokens, meta, emb, tsv, kind)`,
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
          ],
        );
      }
    },
    async listByDocument(documentId: string, page: { afterOrd?: number; limit: number }): Promise<ChunkRow[]> {
      const { rows } = await db.query<ChunkRow>(
        `SELECT id, document_id, collection_id, ord, text, token_count, metadata, kind FROM chunks
         WHERE document_id = $1 AND ord > $2 ORDER BY ord LIMIT $3`,
        [documentId, page.afterOrd ?? -1, page.limit],
      );
      return rows;
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
