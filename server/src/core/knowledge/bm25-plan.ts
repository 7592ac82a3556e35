import type { Bm25Params, CorpusStats } from './retrieval.repository.ts';

export interface FullTextTerm {
  lexeme: string;
  /** Chunks in the whole index containing the lexeme. */
  df: number;
}

/** What the BM25 half scores (every query lexeme the index knows) and what selects candidates. */
export interface FullTextPlan {
  terms: FullTextTerm[];
  drivers: string[];
}

/**
 * Picks the lexemes whose postings become the candidate set: rarest first, until their document
 * frequencies add up to `params.candidateBudget` (the rarest one always drives). A chunk that
 * shares only common lexemes with the query cannot outrank one holding its rare ones, so leaving
 * those chunks out keeps the top of the ranking while bounding the rows one query touches — a
 * common Chinese bigram alone appears in thousands of chunks. Non-drivers still score.
 */
export function planFullText(
  lexemes: string[],
  df: ReadonlyMap<string, number>,
  stats: CorpusStats,
  params: Bm25Params,
): FullTextPlan | null {
  const terms = [...new Set(lexemes)].map((lexeme) => ({ lexeme, df: df.get(lexeme) ?? 0 })).filter((t) => t.df > 0);
  if (!terms.length) return null;
  const common = Math.max(stats.n * params.commonShare, 50);
  const byRarity = [...terms].sort((a, b) => a.df - b.df || (a.lexeme < b.lexeme ? -1 : 1));
  const drivers: string[] = [];
  let rows = 0;
  for (const t of byRarity) {
    if (drivers.length && (rows + t.df > params.candidateBudget || t.df > common)) break;
    drivers.push(t.lexeme);
    rows += t.df;
  }
  return { terms, drivers };
}

/**
 * Document frequencies, cached for a minute: the rarest lexemes are cheap to count, the common ones
 * (the ones every query repeats) cost a scan of thousands of index entries each, and a df that is
 * a minute stale moves no ranking. Which chunks match is never cached, only how many.
 */
export function createDocumentFrequencyCache(options: { ttlMs: number; maxEntries: number }) {
  const entries = new Map<string, { at: number; df: number }>();
  return {
    async get(
      lexemes: string[],
      count: (missing: string[]) => Promise<Map<string, number>>,
    ): Promise<Map<string, number>> {
      const now = Date.now();
      const out = new Map<string, number>();
      const missing: string[] = [];
      for (const l of new Set(lexemes)) {
        const hit = entries.get(l);
        if (hit && now - hit.at < options.ttlMs) out.set(l, hit.df);
        else missing.push(l);
      }
      if (missing.length) {
        const counted = await count(missing);
        if (entries.size + missing.length > options.maxEntries) entries.clear();
        for (const l of missing) {
          const df = counted.get(l) ?? 0;
          // A lexeme no chunk holds yet is asked again next time: a document indexed a moment
          // later must be findable by it at once.
          if (df > 0) entries.set(l, { at: now, df });
          out.set(l, df);
        }
      }
      return out;
    },
  };
}
