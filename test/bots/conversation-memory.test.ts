import { describe, expect, it } from 'vitest';
import {
  modelTokenCounter,
  recentTurns,
  withoutCitationMarkers,
  type Turn,
} from '../../server/src/core/bots/conversation-memory.ts';
import { mainLanguage, mergeHits } from '../../server/src/core/bots/cross-language-search.ts';
import { parseRewrite } from '../../server/src/core/bots/question-rewrite.ts';
import type { SearchHit } from '../../server/src/core/knowledge/retrieval.service.ts';
import { estimateTokens } from '../../server/src/core/llm/chat-model.ts';

/** A turn of about `tokens` estimated tokens (4 characters each). */
const turn = (role: Turn['role'], label: string, tokens: number): Turn => ({
  role,
  content: `${label} `.padEnd(tokens * 4, 'x'),
});

describe('the history an answer carries', () => {
  const history = [
    turn('user', 'q1', 100),
    turn('assistant', 'a1', 400),
    turn('user', 'q2', 100),
    turn('assistant', 'a2', 400),
    turn('user', 'q3', 100),
    turn('assistant', 'a3', 400),
  ];

  it('keeps the most recent turns that fit, oldest first, dropping the oldest', () => {
    const kept = recentTurns(history, 1100);
    expect(kept.map((t) => t.content.slice(0, 2))).toEqual(['q2', 'a2', 'q3', 'a3']);
    expect(recentTurns(history, 10_000)).toEqual(history);
  });

  it('never cuts a turn to squeeze it in: a turn that does not fit ends the history', () => {
    // a3 and q3 (404 + 104) fit in 700; a2 (404 more) does not, and nothing older is taken past it.
    expect(recentTurns(history, 700).map((t) => t.content.slice(0, 2))).toEqual(['q3', 'a3']);
  });

  it('cuts only a most recent turn that exceeds the budget by itself, keeping its start', () => {
    const long = [turn('user', 'q1', 10), { role: 'assistant' as const, content: `Start. ${'y'.repeat(8000)}` }];
    const kept = recentTurns(long, 500);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.content.startsWith('Start. yyy')).toBe(true);
    expect(kept[0]!.content.endsWith('…')).toBe(true);
    expect(estimateTokens(kept[0]!.content)).toBeLessThanOrEqual(500);
    expect(estimateTokens(kept[0]!.content)).toBeGreaterThan(400);
  });

  it('sends nothing with a budget of 0', () => {
    expect(recentTurns(history, 0)).toEqual([]);
  });

  it('counts Chinese by the character, so a Chinese history takes more of the budget', () => {
    const zh: Turn[] = [
      { role: 'user', content: '全职员工每年有多少天年假？' },
      { role: 'assistant', content: '全职员工每年享有十五天带薪年假。'.repeat(10) },
    ];
    // 13 + 4 and 153 + 4 tokens: both fit 200, only the answer fits 170.
    expect(recentTurns(zh, 200)).toHaveLength(2);
    expect(recentTurns(zh, 170)).toEqual([zh[1]]);
  });

  it("removes an earlier answer's citation markers, and only an answer's", () => {
    expect(withoutCitationMarkers('15 days [1]. Expires in March [2][3].')).toBe('15 days. Expires in March.');
    const kept = recentTurns(
      [
        { role: 'user', content: 'What does [1] mean?' },
        { role: 'assistant', content: 'Fifteen days [1].' },
      ],
      100,
    );
    expect(kept).toEqual([
      { role: 'user', content: 'What does [1] mean?' },
      { role: 'assistant', content: 'Fifteen days.' },
    ]);
  });

  it("measures with the model's own count where the endpoint reported one", () => {
    const text = 'x'.repeat(400); // estimated 100 tokens
    expect(modelTokenCounter()(text)).toBe(100);
    expect(modelTokenCounter({ reported: 300, estimated: 200 })(text)).toBe(150);
    // A nonsense report is bounded, not trusted.
    expect(modelTokenCounter({ reported: 1, estimated: 200 })(text)).toBe(50);
    expect(modelTokenCounter({ reported: 0, estimated: 200 })(text)).toBe(100);
    // A tokenizer that spends more per character keeps fewer turns in the same budget.
    const history = [turn('user', 'q1', 100), turn('assistant', 'a1', 100)];
    expect(recentTurns(history, 220, modelTokenCounter({ reported: 200, estimated: 100 }))).toHaveLength(1);
  });
});

describe("the rewrite model's reply", () => {
  const question = 'make it shorter';

  it('reads the JSON, in a code fence or not', () => {
    expect(parseRewrite('{"query": "Shorten the answer", "followUp": true}', question)).toEqual({
      query: 'Shorten the answer',
      followUp: true,
      translatedQuery: null,
    });
    const fenced =
      '```json\n{"query": "年假有几天？", "followUp": false, "queryInCollectionLanguage": "How many days of annual leave?"}\n```';
    expect(parseRewrite(fenced, '年假有几天？')).toEqual({
      query: '年假有几天？',
      followUp: false,
      translatedQuery: 'How many days of annual leave?',
    });
  });

  it('takes plain text as the standalone question (a bot prompt written for the old contract)', () => {
    expect(parseRewrite('How many days of annual leave do contractors get?', 'and contractors?')).toEqual({
      query: 'How many days of annual leave do contractors get?',
      followUp: false,
      translatedQuery: null,
    });
  });

  it('falls back to the question as asked on broken or misshapen JSON', () => {
    for (const bad of ['{"query": "trunc', '{"followUp": true}', '{"query": "", "followUp": true}', '{"query": 3}']) {
      expect(parseRewrite(bad, question)).toEqual({ query: question, followUp: false, translatedQuery: null });
    }
  });
});

describe('searching in two languages', () => {
  it("tells a text's main language by its words, not by a single character", () => {
    expect(mainLanguage('The Shanghai office (上海) opens at nine on weekdays.')).toBe('en');
    expect(mainLanguage('员工出差的住宿费用标准为每晚不超过六百元，须附 PDF 发票。')).toBe('zh');
  });

  it('merges the hits of both wordings, each passage once with its best relevance', () => {
    const hit = (chunkId: string, relevance: number) => ({ chunkId, relevance, score: 0.1 }) as SearchHit;
    const merged = mergeHits(
      [
        [hit('a', 0.06), hit('b', 0.05)],
        [hit('c', 0.4), hit('a', 0.3)],
      ],
      2,
    );
    expect(merged.map((h) => [h.chunkId, h.relevance])).toEqual([
      ['c', 0.4],
      ['a', 0.3],
    ]);
  });
});
