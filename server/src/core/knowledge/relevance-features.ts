import { countTokens, isHan, lexemes, normalize, runs, stemWord } from './text/tokenize.ts';
import { sentences } from './text/sentences.ts';

/**
 * What the reranker and the answerability decision know about one retrieved passage: evidence the
 * retrieval already has (BM25 and vector scores and ranks) and evidence read from the passage
 * (how much of the question's weight it covers, in one sentence or two, in its title; whether the
 * question's rarest word, its numbers or its negation are missing). Every value is a plain number,
 * comparable across queries, so one fitted model serves every collection and language.
 */
export const RELEVANCE_FEATURES = [
  'bm25',
  'cosine',
  'textRR',
  'vectorRR',
  'fusedRR',
  'coverage',
  'sentenceCoverage',
  'windowCoverage',
  'titleCoverage',
  'missingRare',
  'missingWeight',
  'sentenceMissingRare',
  'numbers',
  'negation',
  'length',
  'terms',
  'han',
] as const;

export type RelevanceFeatureName = (typeof RELEVANCE_FEATURES)[number];
export type RelevanceFeatures = Record<RelevanceFeatureName, number>;

/** A query lexeme and how much it says about where the answer is (its BM25 idf over the whole index). */
export interface WeightedTerm {
  lexeme: string;
  weight: number;
  /** The idf the index's BM25 gives it (no floor on the index size): what its score is made of. */
  bm25Weight?: number;
}

export interface CandidateEvidence {
  title: string;
  text: string;
  /** 1-based positions in each half and in the fused list; null when a half did not return it. */
  textRank: number | null;
  vectorRank: number | null;
  fusedRank: number;
  textScore: number | null;
  vectorScore: number | null;
}

/**
 * Below this many chunks, document frequencies are too few to tell rare words from common ones (in
 * a knowledge base of two leave policies, "leave" is in every chunk): idf is computed as if the
 * index held this many, so a small knowledge base weighs the question's words nearly alike.
 */
const MIN_INDEX_SIZE = 50;

/** BM25's idf: a lexeme in every chunk weighs least, one no chunk holds weighs most. */
export function idf(df: number, n: number, minSize = MIN_INDEX_SIZE): number {
  const size = Math.max(n, minSize, 1);
  return Math.log(1 + (size - df + 0.5) / (df + 0.5));
}
// Asking words are not content: masked before tokenising, so Chinese bigrams do not straddle them
// ("有多少天" would otherwise ask the passage for 有多 and 少天).
const ASKING =
  /什么时候|为什么|為什麼|什么|什麼|甚麼|哪些|哪个|哪個|哪里|哪裡|哪一|哪位|哪年|多少|怎么|怎麼|怎样|怎樣|如何|为何|為何|是否|几|幾|\bhow (?:many|much)\b/gi;

/** The question's content lexemes: what a passage that answers it should hold. */
export function contentLexemes(query: string): string[] {
  return [...new Set(lexemes(query.replace(ASKING, ' '), 'query'))];
}

/**
 * Lexemes weighted by idf (`df` from the index, `n` chunks in all). A lexeme the index has never
 * seen weighs as much as the rarest one it has, not more: in a knowledge base of a few documents,
 * "get" is unseen because the documents are few, not because it is rarer than their rarest word.
 */
export function weightedTerms(content: string[], df: ReadonlyMap<string, number>, n: number): WeightedTerm[] {
  const weigh = (minSize?: number) => {
    const seen = content.filter((l) => (df.get(l) ?? 0) > 0).map((l) => idf(df.get(l)!, n, minSize));
    const unseen = seen.length ? Math.max(...seen) : idf(0, n, minSize);
    return content.map((l) => ((df.get(l) ?? 0) > 0 ? idf(df.get(l)!, n, minSize) : unseen));
  };
  const [weights, bm25Weights] = [weigh(), weigh(0)];
  return content.map((lexeme, i) => ({ lexeme, weight: weights[i]!, bm25Weight: bm25Weights[i]! }));
}

const HAN = /\p{Script=Han}/u;
const NUMBER = /\d+(?:[.,]\d+)*/g;
const NEGATION = /\b(?:not|never|no|none|nor|cannot|without|n't)\b|[不没沒未无無非別别]/i;

/**
 * Which of the question's lexemes a text holds. Han lexemes (jieba words and bigrams) are looked up
 * as substrings, so passages need no segmenting: jieba is the costly part of tokenising, and this
 * runs on twenty candidates per question. Other lexemes are compared as stems.
 */
function holder(text: string) {
  const normal = normalize(text);
  const stems = new Set(runs(text).flatMap((r) => (r.han ? [] : [stemWord(r.text) ?? ''])));
  return (lexeme: string) => (isHan(lexeme) ? normal.includes(lexeme) : stems.has(lexeme));
}

/** The lexemes of `terms` that a text holds. */
function heldBy(terms: WeightedTerm[], text: string): Set<string> {
  const holds = holder(text);
  return new Set(terms.filter((t) => holds(t.lexeme)).map((t) => t.lexeme));
}

const covered = (terms: WeightedTerm[], tokens: ReadonlySet<string>) =>
  terms.reduce((sum, t) => sum + (tokens.has(t.lexeme) ? t.weight : 0), 0);

export interface RelevanceEvidence {
  features: RelevanceFeatures;
  /** The question's content lexemes the passage (or its title) holds, each with its share of the question's weight. */
  matched: WeightedTerm[];
}

export function relevanceEvidence(query: string, terms: WeightedTerm[], c: CandidateEvidence): RelevanceEvidence {
  const total = terms.reduce((sum, t) => sum + t.weight, 0) || 1;
  const parts = sentences(c.text);
  const sentenceTokens = parts.map((s) => heldBy(terms, s));
  const passageTokens = new Set(sentenceTokens.flatMap((s) => [...s]));
  const titleTokens = heldBy(terms, c.title);
  let sentenceCoverage = 0;
  let windowCoverage = 0;
  let best = 0;
  sentenceTokens.forEach((tokens, i) => {
    const share = covered(terms, tokens);
    if (share > sentenceCoverage) [sentenceCoverage, best] = [share, i];
    const next = sentenceTokens[i + 1];
    windowCoverage = Math.max(windowCoverage, next ? covered(terms, new Set([...tokens, ...next])) : 0);
  });
  windowCoverage = Math.max(windowCoverage, sentenceCoverage);
  const heaviest = Math.max(0, ...terms.map((t) => t.weight)) || 1;
  const missing = terms.filter((t) => !passageTokens.has(t.lexeme) && !titleTokens.has(t.lexeme));
  const missingFromBest = terms.filter((t) => !sentenceTokens[best]?.has(t.lexeme) && !titleTokens.has(t.lexeme));
  // Numbers and negation are read in the best sentence: that is where the answer would be.
  const bestText = (parts[best] ?? c.text).normalize('NFKC');
  const numbers = query.match(NUMBER) ?? [];
  const hanShare = [...query].filter((ch) => HAN.test(ch)).length / Math.max(1, query.replace(/\s/g, '').length);
  const features: RelevanceFeatures = {
    // Scaled by the same idf the score was made of, so a one-document index scores like a big one.
    bm25: (c.textScore ?? 0) / (terms.reduce((sum, t) => sum + (t.bm25Weight ?? t.weight), 0) || 1),
    cosine: c.vectorScore ?? 0,
    textRR: c.textRank ? 1 / c.textRank : 0,
    vectorRR: c.vectorRank ? 1 / c.vectorRank : 0,
    fusedRR: 1 / c.fusedRank,
    coverage: covered(terms, new Set([...passageTokens, ...titleTokens])) / total,
    sentenceCoverage: sentenceCoverage / total,
    windowCoverage: windowCoverage / total,
    titleCoverage: covered(terms, titleTokens) / total,
    missingRare: Math.max(0, ...missing.map((t) => t.weight)) / heaviest,
    missingWeight: missing.reduce((sum, t) => sum + t.weight, 0) / total,
    sentenceMissingRare: Math.max(0, ...missingFromBest.map((t) => t.weight)) / heaviest,
    numbers: numbers.length ? numbers.filter((n) => bestText.includes(n)).length / numbers.length : 1,
    negation: NEGATION.test(query) && !NEGATION.test(bestText) ? 1 : 0,
    length: Math.log1p(countTokens(c.text)) / Math.log(1000),
    terms: Math.log1p(terms.length) / Math.log(50),
    han: hanShare,
  };
  const matched = terms
    .filter((t) => passageTokens.has(t.lexeme) || titleTokens.has(t.lexeme))
    .map((t) => ({ lexeme: t.lexeme, weight: t.weight / total }));
  return { features, matched };
}
