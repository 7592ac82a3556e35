import type { Queryable } from '../db/database.ts';
import { collectionReadableSql, documentNarrowingSql } from './collection.repository.ts';

/**
 * The two halves of hybrid search. Both apply the reader's permissions inside their SQL (the
 * collection's groups, narrowed by the document's), and only enabled, ready documents count.
 * $1 is always the reader's user id, $2 the collection filter (null = all).
 */
const SEARCHABLE = `d.enabled AND d.status = 'ready' AND ($2::uuid[] IS NULL OR c.collection_id = ANY($2::uuid[]))`;
const PERMITTED = `${collectionReadableSql('c.collection_id', '$1')} AND ${documentNarrowingSql('c.document_id', '$1')}`;

export interface RankedId {
  id: number;
  score: number;
}

export interface HitRow {
  id: number;
  document_id: string;
  collection_id: string;
  text: string;
  metadata: { page?: number; headings?: string[] };
  kind: 'passage' | 'faq';
  title: string;
  source_url: string | null;
}

export interface Bm25Params {
  k1: number;
  b: number;
  /** BM25+ lower bound per matched term (Lv & Zhai 2011): long passages are not over-penalised. */
  delta: number;
}

// Document length for BM25 = the number of index lexemes (stored at ingestion); model tokens for older rows.
const DL = `COALESCE((c.metadata->>'lexemes')::float8, c.token_count::float8)`;

export function createRetrievalRepository(db: Queryable) {
  return {
    /**
     * Nearest neighbours by cosine distance over the HNSW index. Call inside a transaction after
     * `tuneVectorScan`, so a selective permission filter still yields `limit` rows.
     */
    async vector(userId: string, collectionIds: string[] | null, vector: string, limit: number): Promise<RankedId[]> {
      const { rows } = await db.query<{ id: number; distance: number }>(
        `SELECT id, distance FROM (
           SELECT c.id, c.embedding <=> $3::vector AS distance
           FROM chunks c JOIN documents d ON d.id = c.document_id
           WHERE c.embedding IS NOT NULL AND ${SEARCHABLE} AND ${PERMITTED}
           ORDER BY c.embedding <=> $3::vector
           LIMIT $4
         ) nearest ORDER BY distance, id`,
        [userId, collectionIds, vector, limit],
      );
      return rows.map((r) => ({ id: r.id, score: 1 - Number(r.distance) }));
    },

    /**
     * Okapi BM25 over the tsvector column: candidates come from the GIN index (any query lexeme),
     * term frequencies from the tsvector's positions, document frequencies and the average length
     * from the searchable chunks of the asked collections. `ts_rank` has no IDF, which makes
     * common words drown rare ones; this is the ranking the BM25 literature means.
     */
    async fullText(
      userId: string,
      collectionIds: string[] | null,
      lexemes: string[],
      limit: number,
      params: Bm25Params,
    ): Promise<RankedId[]> {
      const unique = [...new Set(lexemes)];
      if (!unique.length) return [];
      const tsquery = unique.map((l) => `'${l.replace(/['\\]/g, '\\$&')}'`).join(' | ');
      const { rows } = await db.query<{ id: number; score: number }>(
        `WITH q AS (SELECT DISTINCT unnest($3::text[]) AS lexeme),
         stats AS (
           SELECT count(*)::float8 AS n, GREATEST(avg(${DL}), 1)::float8 AS avgdl
           FROM chunks c JOIN documents d ON d.id = c.document_id WHERE ${SEARCHABLE}
         ),
         df AS (
           SELECT q.lexeme, (SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id
                              WHERE c.tsv @@ (quote_literal(q.lexeme))::tsquery AND ${SEARCHABLE})::float8 AS df
           FROM q
         ),
         matched AS (
           SELECT c.id, c.tsv, ${DL} AS dl FROM chunks c JOIN documents d ON d.id = c.document_id
           WHERE c.tsv @@ $4::tsquery AND ${SEARCHABLE} AND ${PERMITTED}
         )
         SELECT m.id, sum(
             ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
             * ((cardinality(u.positions) * ($6::float8 + 1))
                / (cardinality(u.positions) + $6::float8 * (1 - $7::float8 + $7::float8 * m.dl / s.avgdl)) + $8::float8)
           ) AS score
         FROM matched m CROSS JOIN stats s
         CROSS JOIN LATERAL unnest(m.tsv) AS u(lexeme, positions, weights)
         JOIN df ON df.lexeme = u.lexeme
         GROUP BY m.id
         ORDER BY score DESC, m.id
         LIMIT $5`,
        [userId, collectionIds, unique, tsquery, limit, params.k1, params.b, params.delta],
      );
      return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
    },

    /** pgvector ≥ 0.8: keep scanning the index until enough rows pass the filters. */
    async tuneVectorScan(efSearch: number): Promise<void> {
      await db.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(Math.trunc(efSearch))]);
      await db.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
    },

    async hits(ids: number[]): Promise<HitRow[]> {
      if (!ids.length) return [];
      const { rows } = await db.query<HitRow>(
        `SELECT c.id, c.document_id, c.collection_id, c.text, c.metadata, c.kind, d.title, d.source_url
         FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ANY($1::bigint[])`,
        [ids],
      );
      return rows;
    },
  };
}
