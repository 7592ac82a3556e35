import type { Queryable } from '../db/database.ts';
import { collectionReadableSql, passageReadableSql } from '../policy/read-rules.sql.ts';
import type { FullTextPlan } from './bm25-plan.ts';
import { isHan } from './text/tokenize.ts';

/**
 * The two halves of hybrid search. Both apply the reader's permissions inside their SQL (the
 * collection's groups, narrowed by the document's), and only enabled documents with an indexed
 * version count — also while a newer version is indexed: its chunks replace these in one
 * transaction, so search sees the old passages or the new, never neither — and of them only the
 * passages no admin excluded (a flagged instruction-like passage, say).
 * $1 is always the reader's user id, $2 the collection filter (null = all).
 */
const SEARCHABLE = `d.enabled AND d.indexed_version > 0 AND NOT c.excluded AND ($2::uuid[] IS NULL OR c.collection_id = ANY($2::uuid[]))`;
const PERMITTED = passageReadableSql({ collection: 'c.collection_id', document: 'c.document_id' }, '$1');

/** A document view shows at most this many passages (a book-length document: its start). */
const DOCUMENT_PASSAGES = 2000;

export interface ReadablePassageRow {
  document_id: string;
  title: string;
  source_url: string | null;
  chunk_id: string;
  ord: number;
  text: string;
  metadata: { page?: number; headings?: string[] };
}

export interface RankedId {
  id: number;
  score: number;
}

export interface CorpusStats {
  n: number;
  avgdl: number;
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
  /** Length normalisation of a query lexeme's term frequency, for lexemes without Han characters. */
  b: number;
  /**
   * The same for Han lexemes. Chinese text is indexed as jieba words *and* overlapping character
   * bigrams (about two lexemes per character), and the two scripts want different normalisation:
   * on the dev sets xquad/en needs b ≥ 0.75 (the textbook value) to reach the BM25 peer while
   * xquad/zh falls below it from 0.7 up, so no single b serves both (docs/retrieval.md). In a
   * mixed index the average length also blends those ~2 lexemes per Han character with at most one
   * per English word, so Chinese chunks look long; a gentler b softens that. Chosen per query
   * lexeme: a Han lexeme only matches Han text, so this needs no per-chunk state, and a mixed query
   * normalises each script's terms its own way.
   */
  bHan: number;
  /** BM25+ lower bound per matched term (Lv & Zhai 2011): long passages are not over-penalised. */
  delta: number;
  /** Lexemes in more than this share of chunks do not select candidates (they still score). */
  commonShare: number;
  /** Drivers are added rarest first while their document frequencies sum to at most this. */
  candidateBudget: number;
}

// Document length for BM25 = the number of index lexemes (stored at ingestion); model tokens for older rows.
const DL = `COALESCE((c.metadata->>'lexemes')::float8, c.token_count::float8)`;

/** Any of the lexemes, quoted as tsquery literals (they are already normalised; nothing is parsed). */
export function tsqueryOf(lexemes: string[]): string {
  return lexemes.map((l) => `'${l.replace(/['\\]/g, '\\$&')}'`).join(' | ');
}

export function createRetrievalRepository(db: Queryable) {
  return {
    /**
     * Nearest neighbours by cosine distance over the HNSW index. Call inside a transaction after
     * `tuneForSearch`, so a selective permission filter still yields `limit` rows.
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
     * How many chunks of the whole index hold each lexeme (cached by the service). Each count must
     * come from the GIN index, which never reads a tsvector: PGlite (no statistics) and small tables
     * otherwise get a sequential scan per lexeme, and constant tsqueries let Postgres pick one for a
     * lexeme it guesses is common (at 100k chunks: p50 9 ms this way, 27 ms with constants, and a
     * p90 of 390 ms). Hence sequential scans are off for this statement — within the caller's
     * transaction, as search runs it.
     */
    async documentFrequencies(lexemes: string[]): Promise<Map<string, number>> {
      const unique = [...new Set(lexemes)];
      if (!unique.length) return new Map();
      const { rows: before } = await db.query<{ old: string }>(
        `SELECT current_setting('enable_seqscan') AS old, set_config('enable_seqscan', 'off', true)`,
      );
      const { rows } = await db.query<{ lexeme: string; df: number }>(
        `SELECT t.lexeme, (SELECT count(*) FROM chunks c WHERE c.tsv @@ (quote_literal(t.lexeme))::tsquery)::float8 AS df
         FROM unnest($1::text[]) AS t(lexeme)`,
        [unique],
      );
      await db.query(`SELECT set_config('enable_seqscan', $1, true)`, [before[0]!.old]);
      return new Map(rows.map((r) => [r.lexeme, Number(r.df)]));
    },

    /**
     * Okapi BM25 (BM25+) over the tsvector column: candidates are the chunks holding a driver
     * lexeme (GIN), term frequencies come from their tsvector cut down to the query's lexemes
     * (`setweight` marks them, `ts_filter` keeps them — C code, instead of unnesting hundreds of
     * lexemes per chunk), document frequencies and the average length are index-wide. The GIN match
     * is its own materialised step: without statistics (PGlite has no autovacuum) the planner would
     * otherwise re-run it once per document, seconds per query on a thousand documents. `ts_rank`
     * has no IDF, which lets common words drown rare ones; this is the ranking the literature means.
     */
    async fullText(
      userId: string,
      collectionIds: string[] | null,
      plan: FullTextPlan,
      limit: number,
      params: Bm25Params,
      stats: CorpusStats,
    ): Promise<RankedId[]> {
      const lexemes = plan.terms.map((t) => t.lexeme);
      const b = lexemes.map((l) => (isHan(l) ? params.bHan : params.b));
      const { rows } = await db.query<{ id: number; score: number }>(
        `WITH matched AS MATERIALIZED (
           SELECT c.id, c.document_id, c.collection_id, c.excluded, ts_filter(setweight(c.tsv, 'A', $3::text[]), '{a}') AS tsv, ${DL} AS dl
           FROM chunks c WHERE c.tsv @@ $4::tsquery
         ),
         cand AS MATERIALIZED (
           SELECT c.id, c.tsv, c.dl FROM matched c JOIN documents d ON d.id = c.document_id
           WHERE ${SEARCHABLE} AND ${PERMITTED}
         ),
         q AS (SELECT * FROM unnest($3::text[], $8::float8[], $11::float8[]) AS q(lexeme, df, b))
         SELECT cand.id, sum(
             ln(1 + (GREATEST($9::float8, q.df) - q.df + 0.5) / (q.df + 0.5))
             * ((cardinality(u.positions) * ($6::float8 + 1))
                / (cardinality(u.positions) + $6::float8 * (1 - q.b + q.b * cand.dl / $10::float8)) + $7::float8)
           ) AS score
         FROM cand CROSS JOIN LATERAL unnest(cand.tsv) AS u(lexeme, positions, weights)
         JOIN q ON q.lexeme = u.lexeme
         GROUP BY cand.id
         ORDER BY score DESC, cand.id
         LIMIT $5`,
        [
          userId,
          collectionIds,
          lexemes,
          tsqueryOf(plan.drivers),
          limit,
          params.k1,
          params.delta,
          plan.terms.map((t) => t.df),
          stats.n,
          stats.avgdl,
          b,
        ],
      );
      return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
    },

    /**
     * Size and average BM25 length of the index (cached briefly by the service). Like the document
     * frequencies these are index-wide statistics: the same query scores a passage the same for
     * every reader, and no count depends on what a reader may see.
     */
    async corpusStats(): Promise<CorpusStats> {
      const { rows } = await db.query<{ n: number; avgdl: number }>(
        `SELECT count(*)::float8 AS n, GREATEST(COALESCE(avg(${DL}), 1), 1)::float8 AS avgdl FROM chunks c`,
      );
      return { n: Number(rows[0]?.n ?? 0), avgdl: Number(rows[0]?.avgdl ?? 1) };
    },

    /**
     * Settings for the rest of the search transaction. pgvector ≥ 0.8: keep scanning the HNSW index
     * until enough rows pass the filters. No JIT: the planner's row estimates for tsvector matches
     * are far too high, so Postgres compiled every BM25 query (~20 ms of LLVM for ~7 ms of work);
     * PGlite has no JIT and ignores it.
     */
    async tuneForSearch(efSearch: number): Promise<void> {
      await db.query(
        `SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('jit', 'off', true)`,
        [String(Math.trunc(efSearch))],
      );
    },

    /**
     * The opening of up to `limit` searchable documents the reader may read, to tell which language
     * they are written in. No ordering: any documents will do. Readable collections first, then
     * documents, then their first chunks: filtering chunks instead read every chunk of a bot's
     * collection the reader may not read (0.5 s for 30,000 chunks on Postgres; this way 2 ms).
     */
    async documentOpenings(userId: string, collectionIds: string[] | null, limit: number): Promise<string[]> {
      const { rows } = await db.query<{ text: string }>(
        `WITH sample AS MATERIALIZED (
           SELECT d.id FROM documents d
           WHERE d.collection_id IN (SELECT r.id FROM collections r WHERE ($2::uuid[] IS NULL OR r.id = ANY($2::uuid[]))
                                       AND ${collectionReadableSql('r.id', '$1')})
             AND d.enabled AND d.indexed_version > 0 AND ${passageReadableSql({ collection: 'd.collection_id', document: 'd.id' }, '$1')}
           LIMIT $3
         )
         SELECT left(c.text, 300) AS text FROM sample JOIN chunks c ON c.document_id = sample.id AND c.ord = 0`,
        [userId, collectionIds, limit],
      );
      return rows.map((r) => r.text);
    },

    /**
     * Of these passages, the ids `userId` may read now (and no admin excluded since). The copilot
     * retrieves as the employee and shows an agent only what both may read.
     */
    async readablePassageIds(userId: string, chunkIds: string[]): Promise<Set<string>> {
      if (!chunkIds.length) return new Set();
      const { rows } = await db.query<{ id: string }>(
        `SELECT c.id::text AS id FROM chunks c WHERE c.id = ANY($2::bigint[]) AND NOT c.excluded AND ${PERMITTED}`,
        [userId, chunkIds],
      );
      return new Set(rows.map((r) => r.id));
    },

    /**
     * A document's passages in order, for a reader who opens a citation: only those `userId` may
     * read (none: the document is not theirs to see, or not searchable now).
     */
    async readableDocument(userId: string, documentId: string): Promise<ReadablePassageRow[]> {
      const { rows } = await db.query<ReadablePassageRow>(
        `SELECT d.id AS document_id, d.title, d.source_url, c.id::text AS chunk_id, c.ord, c.text, c.metadata
           FROM documents d JOIN chunks c ON c.document_id = d.id
          WHERE d.id = $2 AND d.enabled AND d.indexed_version > 0 AND NOT c.excluded AND ${PERMITTED}
          ORDER BY c.ord LIMIT ${DOCUMENT_PASSAGES}`,
        [userId, documentId],
      );
      return rows;
    },

    /**
     * Of cited passages no longer in the index (a newer version of their document replaced them):
     * those whose document the reader may still read, by chunk id. The citation keeps the text it
     * quoted, so it still opens, marked as replaced.
     */
    async replacedReadablePassageIds(
      userId: string,
      cited: { chunkId: string; documentId: string }[],
    ): Promise<Set<string>> {
      if (!cited.length) return new Set();
      const { rows } = await db.query<{ id: string }>(
        `SELECT q.chunk_id AS id FROM unnest($2::text[], $3::uuid[]) AS q(chunk_id, document_id)
           JOIN documents d ON d.id = q.document_id
          WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = q.chunk_id::bigint)
            AND ${passageReadableSql({ collection: 'd.collection_id', document: 'd.id' }, '$1')}`,
        [userId, cited.map((c) => c.chunkId), cited.map((c) => c.documentId)],
      );
      return new Set(rows.map((r) => r.id));
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
