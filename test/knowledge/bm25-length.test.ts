import { describe, expect, it } from 'vitest';
import { withIngestedCorpus } from '../../server/src/cli/eval-corpus.ts';
import type { Bm25Params } from '../../server/src/core/knowledge/retrieval.repository.ts';
import { DEFAULT_RETRIEVAL } from '../../server/src/core/knowledge/retrieval.service.ts';
import { isHan, lexemes } from '../../server/src/core/knowledge/text/tokenize.ts';

// English and Chinese passages of different lengths, and one holding both scripts.
const PASSAGES = [
  { id: 'en-short', title: 'Otters', text: 'Sea otters sleep holding hands.' },
  {
    id: 'en-long',
    title: 'Otters',
    text: 'Sea otters live along the northern Pacific coast, dive for urchins and clams, use stones as tools, groom their dense fur for hours every day, and rest in kelp forests; otters sleep holding hands.',
  },
  { id: 'zh-short', title: '海獭', text: '海獭睡觉时手牵着手。' },
  {
    id: 'zh-long',
    title: '海獭',
    text: '海獭生活在北太平洋沿岸，潜水捕食海胆和蛤蜊，会用石头当工具，每天花几个小时梳理浓密的皮毛，在海藻林中休息；海獭睡觉时手牵着手。',
  },
  { id: 'mixed', title: 'Otters', text: 'Sea otters (海獭) float on their backs.' },
  { id: 'other', title: 'Rivers', text: 'The Rhine flows into the North Sea. 莱茵河流入北海。' },
];
const QUERY = 'otters 海獭';

/** BM25+ as docs/retrieval.md states it, with b chosen by each query lexeme's script. */
function expectedScore(
  terms: { lexeme: string; tf: number; df: number }[],
  dl: number,
  n: number,
  avgdl: number,
  p: Bm25Params,
): number {
  return terms.reduce((sum, { lexeme, tf, df }) => {
    const b = isHan(lexeme) ? p.bHan : p.b;
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    return sum + idf * ((tf * (p.k1 + 1)) / (tf + p.k1 * (1 - b + (b * dl) / avgdl)) + p.delta);
  }, 0);
}

describe('BM25 length normalisation', () => {
  it('normalises each query lexeme by its own script: b for English, bHan for Han lexemes', async () => {
    await withIngestedCorpus('bm25-length', PASSAGES, {}, async ({ services, domain, actor }) => {
      const terms = [...new Set(lexemes(QUERY, 'query'))];
      expect(terms.some(isHan) && !terms.every(isHan)).toBe(true);
      const { rows: stats } = await services.db.query<{ n: number; avgdl: number }>(
        `SELECT count(*)::float8 AS n, avg((metadata->>'lexemes')::float8) AS avgdl FROM chunks`,
      );
      const { rows: postings } = await services.db.query<{ id: string; dl: number; lexeme: string; tf: number }>(
        `SELECT c.id::text, (c.metadata->>'lexemes')::float8 AS dl, u.lexeme, cardinality(u.positions) AS tf
         FROM chunks c CROSS JOIN LATERAL unnest(c.tsv) AS u(lexeme, positions, weights) WHERE u.lexeme = ANY($1::text[])`,
        [terms],
      );
      const df = new Map(terms.map((t) => [t, postings.filter((p) => p.lexeme === t).length]));
      const { n, avgdl } = stats[0]!;

      for (const bm25 of [DEFAULT_RETRIEVAL.bm25, { ...DEFAULT_RETRIEVAL.bm25, b: 0.3, bHan: 0.9 }]) {
        const hits = await domain.retrieval.search(
          actor,
          { query: QUERY, k: 10 },
          { mode: 'text', settings: { bm25 } },
        );
        expect(hits).toHaveLength(5); // every passage but the one about the Rhine
        for (const hit of hits) {
          const own = postings.filter((p) => p.id === hit.chunkId);
          const want = expectedScore(
            own.map((p) => ({ ...p, df: df.get(p.lexeme)! })),
            own[0]!.dl,
            n,
            avgdl,
            bm25,
          );
          expect(hit.textScore).toBeCloseTo(want, 9);
        }
      }
      // The defaults really differ by script (English: the textbook 0.75; Han: 0.6).
      expect(DEFAULT_RETRIEVAL.bm25.b).toBeGreaterThan(DEFAULT_RETRIEVAL.bm25.bHan);
    });
  }, 60_000);
});
