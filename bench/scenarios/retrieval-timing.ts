import type { Database, Queryable } from '../../server/src/core/db/database.ts';
import { planFullText } from '../../server/src/core/knowledge/bm25-plan.ts';
import {
  createRetrievalRepository,
  tsqueryOf,
  type CorpusStats,
} from '../../server/src/core/knowledge/retrieval.repository.ts';
import { DEFAULT_RETRIEVAL, fuse } from '../../server/src/core/knowledge/retrieval.service.ts';

/**
 * The retrieval scenario's measurements below the API, on the corpus retrieval-data.ts loads: the
 * hybrid search's own SQL timed without HTTP (the baseline), HNSW recall against an exact scan,
 * and the vector and BM25 halves timed apart.
 */

export interface HybridQuery {
  vector: string;
  terms: string[];
  /** The search's document frequencies for `terms` (the service caches them; so the baseline is given them). */
  df?: Record<string, number>;
}

export interface TimedHybridArgs {
  userId: string;
  queries: HybridQuery[];
  stats: CorpusStats | null;
  k: number;
  concurrency: number;
  /** Stop after this long (ms) even if queries remain. */
  maxMs: number;
}

/**
 * The hybrid search's SQL exactly as RetrievalService.search sends it — one transaction: tune the
 * HNSW scan, the vector half, the BM25 half, the fused rows — with the query embedding and lexemes
 * computed beforehand. Returns each query's latency (ms).
 */
export async function hybridSql(
  db: Database,
  userId: string,
  q: HybridQuery,
  stats: CorpusStats,
  k: number,
): Promise<void> {
  const s = DEFAULT_RETRIEVAL;
  const candidates = Math.max(k * s.candidateFactor, s.minCandidates);
  await db.transaction(async (tx) => {
    const repo = createRetrievalRepository(tx);
    await repo.tuneForSearch(Math.max(s.efSearch, candidates));
    const vectorHits = await repo.vector(userId, null, q.vector, candidates);
    const plan = planFullText(q.terms, new Map(Object.entries(q.df ?? {})), stats, s.bm25);
    const textHits = plan ? await repo.fullText(userId, null, plan, candidates, s.bm25, stats) : [];
    const fused = fuse(vectorHits, textHits, s).slice(0, k * 2);
    await repo.hits(fused.map((f) => f.id));
  });
}

// Document frequencies already counted in this process (the search's own cache plays this part in the API).
const dfMemo = new Map<string, number>();

export async function timeHybridSql(
  db: Database,
  args: TimedHybridArgs,
): Promise<{ latencies: number[]; stats: CorpusStats }> {
  const repo = createRetrievalRepository(db);
  const stats = args.stats ?? (await repo.corpusStats());
  for (const q of args.queries) {
    const missing = [...new Set(q.terms)].filter((t) => !dfMemo.has(t));
    if (missing.length) for (const [l, n] of await repo.documentFrequencies(missing)) dfMemo.set(l, n);
    q.df = Object.fromEntries(q.terms.map((t) => [t, dfMemo.get(t) ?? 0]));
  }
  const latencies: number[] = [];
  const deadline = Date.now() + args.maxMs;
  let next = 0;
  await Promise.all(
    Array.from({ length: args.concurrency }, async () => {
      while (next < args.queries.length && Date.now() < deadline) {
        const q = args.queries[next++]!;
        const t = performance.now();
        await hybridSql(db, args.userId, q, stats, args.k);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, stats };
}

/** Recall@10 of the HNSW scan (at the search's ef_search) against an exact scan, with the permission filter. */
export async function vectorRecall(
  db: Database,
  args: { userId: string; vectors: string[]; efSearch: number; k: number },
): Promise<{ recall: number; exactMs: number; hnswMs: number }> {
  let found = 0;
  let exactMs = 0;
  let hnswMs = 0;
  for (const vector of args.vectors) {
    let t = performance.now();
    const approx = await db.transaction(async (tx: Queryable) => {
      const repo = createRetrievalRepository(tx);
      await repo.tuneForSearch(args.efSearch);
      return repo.vector(args.userId, null, vector, args.k);
    });
    hnswMs += performance.now() - t;
    t = performance.now();
    const exact = await db.transaction(async (tx: Queryable) => {
      await tx.query(`SELECT set_config('enable_indexscan', 'off', true)`);
      return createRetrievalRepository(tx).vector(args.userId, null, vector, args.k);
    });
    exactMs += performance.now() - t;
    const want = new Set(exact.map((h) => h.id));
    found += approx.filter((h) => want.has(h.id)).length / Math.max(1, exact.length);
  }
  const n = Math.max(1, args.vectors.length);
  return { recall: found / n, exactMs: exactMs / n, hnswMs: hnswMs / n };
}

/** The two halves of the hybrid SQL timed apart, and how many chunks the BM25 half's GIN match hands it. */
export async function halfSplit(
  db: Database,
  args: { userId: string; queries: HybridQuery[] },
): Promise<{ vectorMs: number; textMs: number; hitsMs: number; candidates: number; corpus: number }> {
  const s = DEFAULT_RETRIEVAL;
  const repo = createRetrievalRepository(db);
  const stats = await repo.corpusStats();
  let vectorMs = 0;
  let textMs = 0;
  let hitsMs = 0;
  let candidates = 0;
  for (const q of args.queries) {
    let t = performance.now();
    const vectorHits = await db.transaction(async (tx) => {
      const r = createRetrievalRepository(tx);
      await r.tuneForSearch(s.efSearch);
      return r.vector(args.userId, null, q.vector, s.minCandidates);
    });
    vectorMs += performance.now() - t;
    const plan = planFullText(q.terms, await repo.documentFrequencies(q.terms), stats, s.bm25);
    t = performance.now();
    const textHits = plan
      ? await db.transaction(async (tx) => {
          const r = createRetrievalRepository(tx);
          await r.tuneForSearch(s.efSearch);
          return r.fullText(args.userId, null, plan, s.minCandidates, s.bm25, stats);
        })
      : [];
    textMs += performance.now() - t;
    t = performance.now();
    await repo.hits(
      fuse(vectorHits, textHits, s)
        .slice(0, 16)
        .map((f) => f.id),
    );
    hitsMs += performance.now() - t;
    const tsquery = tsqueryOf([...new Set(q.terms)]);
    if (tsquery)
      candidates += (
        await db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE tsv @@ $1::tsquery', [tsquery])
      ).rows[0]!.n;
  }
  const n = Math.max(1, args.queries.length);
  return {
    vectorMs: vectorMs / n,
    textMs: textMs / n,
    hitsMs: hitsMs / n,
    candidates: candidates / n,
    corpus: stats.n,
  };
}
