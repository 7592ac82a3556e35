import { z } from 'zod';
import { linearModelSchema, probability, readFittedModel } from '../knowledge/linear-model.ts';
import { RELEVANCE_FEATURES, type RelevanceFeatures, type WeightedTerm } from '../knowledge/relevance-features.ts';

/** The reranked top passage's evidence, its relevance, and how far ahead of the next it is. */
export const ANSWERABILITY_FEATURES = [...RELEVANCE_FEATURES, 'relevance', 'margin'] as const;

const answerabilityFileSchema = z.strictObject({
  fitted: z.record(z.string(), z.unknown()),
  model: linearModelSchema,
  /** Answer when the probability that the top passage answers the question reaches this. */
  threshold: z.number().min(0).max(1),
  /** Passages after the first reach the prompt only with at least this relevance. */
  cutoff: z.number().min(0).max(1),
});

export const ANSWERABILITY_FILE = new URL('./answerability-model.json', import.meta.url);

interface Ranked {
  features: RelevanceFeatures | null;
  relevance: number | null;
  matched?: WeightedTerm[] | null;
}

/**
 * A passage below the cut-off still answers a part of a compound question ("the hotel limit and the
 * meal allowance") when it holds at least this share of the question's weight that the passages
 * kept before it do not.
 */
const COMPLEMENT_SHARE = 0.25;

/** The top passage, then each that clears the cut-off or covers a part of the question the others do not. */
function keptPassages<H extends Ranked>(hits: readonly H[], cutoff: number): H[] {
  const kept: H[] = [];
  const covered = new Set<string>();
  for (const hit of hits) {
    const added = (hit.matched ?? []).filter((t) => !covered.has(t.lexeme));
    const share = added.reduce((sum, t) => sum + t.weight, 0);
    if (kept.length && (hit.relevance ?? 0) < cutoff && share < COMPLEMENT_SHARE) continue;
    kept.push(hit);
    for (const t of added) covered.add(t.lexeme);
  }
  return kept;
}

export function answerabilityEvidence(ranked: readonly Ranked[]): Record<string, number> {
  const [top, next] = ranked;
  const relevance = top?.relevance ?? 0;
  return { ...top?.features, relevance, margin: relevance - (next?.relevance ?? 0) };
}

export interface Answerability<H extends Ranked> {
  /** The probability (0–1) that the top passage answers the question. */
  confidence: number;
  /** Whether that clears the bar (the bot's own, else the calibrated one). */
  answerable: boolean;
  /** The passages that may reach the prompt: the top, then those above the cut-off. Empty when nothing clears. */
  passages: H[];
}

/**
 * The offline decision "do these passages answer the question?", from the reranked hits: a logistic
 * model over the top passage's evidence (does a sentence cover the question's weighty words, its
 * numbers, its negation? how far ahead of the next passage is it?), fitted with its threshold and
 * the passage cut-off by `npm run fit:answers` on half of the development sets (docs/answers.md).
 */
export function createAnswerability(file: URL = ANSWERABILITY_FILE) {
  const fitted = readFittedModel(file, answerabilityFileSchema);
  return {
    threshold: fitted.threshold,
    cutoff: fitted.cutoff,
    /**
     * Offline, this decides. With a model (`modelDecides`), the model says whether the passages answer
     * (its `[[NO_ANSWER]]`): it sees the passages kept by the cut-off, and none is a decline without asking.
     * A bot's own `minConfidence` applies either way.
     */
    decide<H extends Ranked>(
      hits: readonly H[],
      options: { minConfidence?: number | undefined; max: number; modelDecides: boolean },
    ): Answerability<H> {
      const top = hits[0];
      if (!top?.features) return { confidence: 0, answerable: false, passages: [] };
      const confidence = probability(fitted.model, answerabilityEvidence(hits));
      // With a model, even the top passage must clear the cut-off (the model sees no noise), unless
      // the bot sets its own bar: then that bar alone says whether the top passage is good enough.
      const topClears = options.minConfidence !== undefined || (top.relevance ?? 0) >= fitted.cutoff;
      const candidates = options.modelDecides && !topClears ? [] : hits;
      const passages = keptPassages(candidates, fitted.cutoff).slice(0, options.max);
      const bar = options.minConfidence ?? (options.modelDecides ? 0 : fitted.threshold);
      const answerable = passages.length > 0 && confidence >= bar;
      return { confidence, answerable, passages: answerable ? passages : [] };
    },
  };
}

export type AnswerabilityModel = ReturnType<typeof createAnswerability>;
