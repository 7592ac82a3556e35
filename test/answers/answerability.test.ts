import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAnswerability } from '../../server/src/core/bots/answerability.ts';
import {
  contentLexemes,
  relevanceEvidence,
  weightedTerms,
} from '../../server/src/core/knowledge/relevance-features.ts';

const evidence = (text: string, title = 'Handbook') => ({
  title,
  text,
  textRank: 1,
  vectorRank: 1,
  fusedRank: 1,
  textScore: 5,
  vectorScore: 0.5,
});

describe('relevance features', () => {
  // Every lexeme weighs the same (df 1 in a corpus of 100), so coverage is a share of the words.
  const terms = (query: string) => weightedTerms(contentLexemes(query), new Map(), 100);

  it('sees a question covered by one sentence, in English and in Chinese', () => {
    const q = 'Do employees get days of annual leave?';
    const f = relevanceEvidence(
      q,
      terms(q),
      evidence('Parking is free. Employees get 15 days of annual leave.'),
    ).features;
    expect(f.sentenceCoverage).toBe(1);
    expect(f.missingRare).toBe(0);
    const zh = '员工每年有多少天年假？';
    const g = relevanceEvidence(zh, terms(zh), evidence('停车免费。员工每年有十五天带薪年假。')).features;
    expect(g.sentenceCoverage).toBeGreaterThan(0.7);
  });

  it('sees the words, numbers and negation a passage lacks', () => {
    const q = 'What did Emily fail to open in 1970?';
    const f = relevanceEvidence(
      q,
      terms(q),
      evidence('The settlers opened a road through the forest in 1968.'),
    ).features;
    expect(f.missingRare).toBe(1);
    expect(f.numbers).toBe(0);
    expect(f.coverage).toBeLessThan(0.5);
    const n = 'Which plants do not need sunlight?';
    expect(relevanceEvidence(n, terms(n), evidence('Plants need sunlight to grow.')).features.negation).toBe(1);
  });
});

describe('answerability decision', () => {
  async function model(threshold: number, cutoff: number) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'answerability-'));
    const file = path.join(dir, 'model.json');
    // The probability of answering is the top passage's relevance itself (logit 0 at relevance 0.5).
    const fitted = { features: ['relevance'], mean: [0.5], scale: [0.25], weights: [1], bias: 0 };
    await writeFile(file, JSON.stringify({ fitted: {}, model: fitted, threshold, cutoff }));
    return createAnswerability(pathToFileURL(file));
  }
  const hit = (relevance: number) => ({ id: relevance, relevance, features: { cosine: 0.5 } as never });

  it('keeps the top passage and those above the cut-off, and answers above the threshold', async () => {
    const a = await model(0.5, 0.3);
    const decided = a.decide([hit(0.9), hit(0.4), hit(0.2)], { max: 6, modelDecides: false });
    expect(decided.answerable).toBe(true);
    expect(decided.passages.map((p) => p.relevance)).toEqual([0.9, 0.4]);
  });

  it('declines with no passage at all when the best is not good enough; a bot may set its own bar', async () => {
    const a = await model(0.5, 0.3);
    expect(a.decide([hit(0.35), hit(0.3)], { max: 6, modelDecides: false })).toMatchObject({
      answerable: false,
      passages: [],
    });
    expect(a.decide([hit(0.35)], { max: 6, modelDecides: false, minConfidence: 0.1 }).answerable).toBe(true);
    expect(a.decide([], { max: 6, modelDecides: false }).answerable).toBe(false);
  });

  it('with a model, sends only passages above the cut-off and lets the model decide', async () => {
    const a = await model(0.5, 0.3);
    const decided = a.decide([hit(0.45), hit(0.31), hit(0.1)], { max: 6, modelDecides: true });
    expect(decided.answerable).toBe(true);
    expect(decided.passages.map((p) => p.relevance)).toEqual([0.45, 0.31]);
    expect(a.decide([hit(0.2), hit(0.1)], { max: 6, modelDecides: true })).toMatchObject({ answerable: false });
  });
});
