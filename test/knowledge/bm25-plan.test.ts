import { describe, expect, it } from 'vitest';
import { planFullText } from '../../server/src/core/knowledge/bm25-plan.ts';
import { DEFAULT_RETRIEVAL } from '../../server/src/core/knowledge/retrieval.service.ts';

const stats = { n: 100_000, avgdl: 120 };
const params = { ...DEFAULT_RETRIEVAL.bm25, candidateBudget: 2000 };

describe('the BM25 half’s candidate plan', () => {
  it('lets the rarest lexemes pick candidates within the budget, and still scores every known lexeme', () => {
    const df = new Map([
      ['年假', 40],
      ['申请', 900],
      ['公司', 1500],
      ['员工', 8000],
    ]);
    const plan = planFullText(['员工', '申请', '年假', '公司', '年假', '火星'], df, stats, params)!;
    expect(plan.drivers).toEqual(['年假', '申请']);
    // '火星' is in no chunk: nothing to score.
    expect(plan.terms.map((t) => t.lexeme).sort()).toEqual(['公司', '员工', '年假', '申请'].sort());
  });

  it('always drives with the rarest lexeme, even a common one, and returns nothing for unknown words', () => {
    expect(
      planFullText(
        ['the', 'compani'],
        new Map([
          ['the', 90_000],
          ['compani', 30_000],
        ]),
        stats,
        params,
      )!.drivers,
    ).toEqual(['compani']);
    expect(planFullText(['zzz'], new Map(), stats, params)).toBeNull();
  });
});
