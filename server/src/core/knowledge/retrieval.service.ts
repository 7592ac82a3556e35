import type { Database } from '../db/database.ts';
import type { EmbeddingProvider } from '../llm/embedding-provider.ts';
import { toVectorLiteral } from '../llm/embedding-provider.ts';
import type { Actor } from '../policy/actor.ts';
import { createDocumentFrequencyCache, planFullText } from './bm25-plan.ts';
import { createRetrievalRepository, type Bm25Params, type CorpusStats, type RankedId } from './retrieval.repository.ts';
import {
  contentLexemes,
  relevanceEvidence,
  weightedTerms,
  type RelevanceFeatures,
  type WeightedTerm,
} from './relevance-features.ts';
import { createOfflineReranker, type OfflineReranker } from './reranker.ts';
import type { Reranker } from '../llm/rerank-client.ts';
import type { Logger } from '../logger.ts';
import { lexemes } from './text/tokenize.ts';

export interface SearchInput {
  query: string;
  collectionIds?: string[] | undefined;
  k?: number | undefined;
}

export interface SearchHit {
  documentId: string;
  collectionId: string;
  chunkId: string;
  title: string;
  text: string;
  /** The fused score (higher is better). */
  score: number;
  page: number | null;
  headings: string[];
  kind: 'passage' | 'faq';
  sourceUrl: string | null;
  /** 1-based rank in each half; null when that half did not return the chunk. */
  vectorRank: number | null;
  textRank: number | null;
  /** Cosine similarity; BM25 score. */
  vectorScore: number | null;
  textScore: number | null;
  /**
   * The reranker's probability (0–1) that the passage answers the query; null when not reranked
   * (a single-half search). Hybrid results are ordered by it.
   */
  relevance: number | null;
}

/** A hit with the evidence the reranker weighed: the answer pipeline decides answerability from it. */
export interface RankedHit extends SearchHit {
  features: RelevanceFeatures | null;
  /** The query's content lexemes the passage holds, with their share of its weight (null when not reranked). */
  matched: WeightedTerm[] | null;
}

/** What a search found and what its query's words weigh. */
export interface SearchEvidence {
  hits: RankedHit[];
  terms: WeightedTerm[];
}

export interface RetrievalSettings {
  /** Reciprocal rank fusion: weight / (rrfK + rank) per half. */
  rrfK: number;
  vectorWeight: number;
  textWeight: number;
  /** Multiplier bonus for FAQ entries (a matching FAQ answer is preferred over a passage). */
  faqBoost: number;
  /** Candidates fetched per half: max(k × candidateFactor, minCandidates). */
  candidateFactor: number;
  minCandidates: number;
  efSearch: number;
  bm25: Bm25Params;
  /** Fused candidates the reranker re-orders (hybrid search); 0 keeps the fused order. */
  rerankDepth: number;
}

// Tuned on the development sets with the offline embedder (docs/retrieval.md): the lexical embedding at
// 512 dimensions is a weaker ranker than BM25, so it re-orders close calls rather than voting equally.
// BM25's b is the textbook 0.75 except for Han lexemes (see `Bm25Params.bHan`).
export const DEFAULT_RETRIEVAL: RetrievalSettings = {
  rrfK: 2,
  vectorWeight: 0.2,
  textWeight: 1,
  faqBoost: 0.2,
  candidateFactor: 5,
  minCandidates: 50,
  efSearch: 100,
  bm25: { k1: 1.2, b: 0.75, bHan: 0.6, delta: 1, commonShare: 0.1, candidateBudget: 2000 },
  rerankDepth: 20,
};

export type SearchMode = 'hybrid' | 'vector' | 'text';

/**
 * Permission-aware hybrid retrieval, the one search used by `/api/search`, the bots, the copilot
 * and `/v1`. Both halves filter by the actor's permissions inside their SQL, so a passage the
 * actor may not read is never even a candidate; fusion is reciprocal rank with tunable weights,
 * and the fused top is re-ordered by the offline reranker (its probability is each hit's relevance).
 */
export function createRetrievalService(deps: {
  db: Database;
  embedder: EmbeddingProvider;
  settings?: Partial<RetrievalSettings>;
  reranker?: OfflineReranker;
  /** A cross-encoder behind RERANK_BASE_URL: it orders the candidates; the offline relevance still cuts off. */
  remoteReranker?: Reranker | undefined;
  logger?: Logger;
}) {
  const settings: RetrievalSettings = { ...DEFAULT_RETRIEVAL, ...deps.settings };
  const reranker = deps.reranker ?? createOfflineReranker();
  // BM25's corpus size and average length move slowly; a few seconds' staleness does not change
  // rankings, and a full scan per query would. (Which chunks match is always live.)
  let statsCache: { at: number; stats: CorpusStats } | undefined;
  const STATS_TTL_MS = 10_000;
  const dfCache = createDocumentFrequencyCache({ ttlMs: 60_000, maxEntries: 100_000 });

  async function searchWithEvidence(
    actor: Pick<Actor, 'id'>,
    input: SearchInput,
    options: { mode?: SearchMode; settings?: Partial<RetrievalSettings> } = {},
  ): Promise<SearchEvidence> {
    const s = { ...settings, ...options.settings };
    const mode = options.mode ?? 'hybrid';
    const k = Math.max(1, Math.min(input.k ?? 8, 100));
    const query = input.query.trim();
    if (!query) return { hits: [], terms: [] };
    const rerank = mode === 'hybrid' && s.rerankDepth > 0;
    const depth = rerank ? Math.max(k, s.rerankDepth) : k;
    const collectionIds = input.collectionIds?.length ? input.collectionIds : null;
    const candidates = Math.max(k * s.candidateFactor, s.minCandidates);
    const vector = mode === 'text' ? undefined : toVectorLiteral((await deps.embedder.embed([query], 'query'))[0]!);
    const lexemesOfQuery = mode === 'vector' ? [] : lexemes(query, 'query');

    const { vectorHits, textHits, rows, terms } = await deps.db.transaction(async (tx) => {
      const repo = createRetrievalRepository(tx);
      let vectorHits: RankedId[] = [];
      let textHits: RankedId[] = [];
      let terms: WeightedTerm[] = [];
      await repo.tuneForSearch(Math.max(s.efSearch, candidates));
      if (vector) {
        vectorHits = await repo.vector(actor.id, collectionIds, vector, candidates);
      }
      if (lexemesOfQuery.length) {
        if (!statsCache || Date.now() - statsCache.at > STATS_TTL_MS)
          statsCache = { at: Date.now(), stats: await repo.corpusStats() };
        const { stats } = statsCache;
        const content = contentLexemes(query);
        const df = await dfCache.get([...lexemesOfQuery, ...content], (missing) => repo.documentFrequencies(missing));
        const plan = planFullText(lexemesOfQuery, df, stats, s.bm25);
        if (plan) textHits = await repo.fullText(actor.id, collectionIds, plan, candidates, s.bm25, stats);
        terms = weightedTerms(content, df, stats.n);
      }
      const fusedIds = fuse(vectorHits, textHits, s, mode).slice(0, depth * 2);
      const rows = await repo.hits(fusedIds.map((f) => f.id));
      return { vectorHits, textHits, rows, terms };
    });

    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    const vRank = new Map(vectorHits.map((h, i) => [h.id, { rank: i + 1, score: h.score }]));
    const tRank = new Map(textHits.map((h, i) => [h.id, { rank: i + 1, score: h.score }]));
    const hits: RankedHit[] = [];
    for (const { id, score } of fuse(vectorHits, textHits, s, mode)) {
      const row = byId.get(id);
      if (!row) continue;
      const boosted = row.kind === 'faq' ? score * (1 + s.faqBoost) : score;
      hits.push({
        documentId: row.document_id,
        collectionId: row.collection_id,
        chunkId: String(row.id),
        title: row.title,
        text: row.text,
        score: boosted,
        page: row.metadata.page ?? null,
        headings: row.metadata.headings ?? [],
        kind: row.kind,
        sourceUrl: row.source_url,
        vectorRank: vRank.get(id)?.rank ?? null,
        textRank: tRank.get(id)?.rank ?? null,
        vectorScore: vRank.get(id)?.score ?? null,
        textScore: tRank.get(id)?.score ?? null,
        relevance: null,
        features: null,
        matched: null,
      });
    }
    const fused = hits.sort((a, b) => b.score - a.score).slice(0, depth);
    if (!rerank || !terms.length) return { hits: fused.slice(0, k), terms };
    fused.forEach((hit, i) => {
      ({ features: hit.features, matched: hit.matched } = relevanceEvidence(query, terms, {
        ...hit,
        fusedRank: i + 1,
      }));
      hit.relevance = reranker.relevance(hit.features);
    });
    const remote = deps.remoteReranker && (await remoteOrder(query, fused));
    // Ties (identical evidence) keep the fused order: sort is stable.
    const ordered = remote ?? fused.sort((a, b) => b.relevance! - a.relevance!);
    return { hits: ordered.slice(0, k), terms };
  }

  /** The candidates in the remote reranker's order, or undefined when it fails (the offline order stands). */
  async function remoteOrder(query: string, candidates: RankedHit[]): Promise<RankedHit[] | undefined> {
    try {
      const ranked = await deps.remoteReranker!.rerank(
        query,
        candidates.map((h) => h.text),
        { topN: candidates.length },
      );
      // The client refuses indexes out of range; one ranked twice counts once (never two copies of a hit).
      const order = [...new Set(ranked.map((r) => candidates[r.index]!))];
      // A server that returns only its top keeps the rest behind, in the offline order.
      const rest = candidates.filter((h) => !order.includes(h)).sort((a, b) => b.relevance! - a.relevance!);
      return [...order, ...rest];
    } catch (error) {
      deps.logger?.warn({ err: error }, 'remote reranker failed; ranking with the offline reranker');
      return undefined;
    }
  }

  /** The search `/api/search` answers with: the hits without the reranker's evidence. */
  async function search(...args: Parameters<typeof searchWithEvidence>): Promise<SearchHit[]> {
    const { hits } = await searchWithEvidence(...args);
    return hits.map(({ features: _features, matched: _matched, ...hit }) => hit);
  }

  return { search, searchWithEvidence, settings };
}

/** Reciprocal rank fusion; a single-half mode ranks by that half alone. */
export function fuse(
  vector: RankedId[],
  text: RankedId[],
  s: Pick<RetrievalSettings, 'rrfK' | 'vectorWeight' | 'textWeight'>,
  mode: SearchMode = 'hybrid',
) {
  const scores = new Map<number, number>();
  const add = (list: RankedId[], weight: number) =>
    list.forEach((h, i) => scores.set(h.id, (scores.get(h.id) ?? 0) + weight / (s.rrfK + i + 1)));
  if (mode !== 'text') add(vector, mode === 'hybrid' ? s.vectorWeight : 1);
  if (mode !== 'vector') add(text, mode === 'hybrid' ? s.textWeight : 1);
  return [...scores].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || a.id - b.id);
}

export type RetrievalService = ReturnType<typeof createRetrievalService>;
