import { z } from 'zod';
import { linearModelSchema, probability, readFittedModel } from './linear-model.ts';
import type { RelevanceFeatures } from './relevance-features.ts';

const rerankerFileSchema = z.strictObject({
  /** How and on what the model was fitted (written by `npm run fit:answers`). */
  fitted: z.record(z.string(), z.unknown()),
  model: linearModelSchema,
});

export const RERANKER_FILE = new URL('./reranker-model.json', import.meta.url);

/**
 * The offline reranker: the probability that a candidate passage answers the question, from its
 * relevance features, by a logistic model fitted on half of the development sets
 * (`npm run fit:answers`, docs/answers.md). Calibrated, so the answer pipeline can cut off on it.
 */
export function createOfflineReranker(file: URL = RERANKER_FILE) {
  const { model } = readFittedModel(file, rerankerFileSchema);
  return {
    relevance: (features: RelevanceFeatures) => probability(model, features),
  };
}

export type OfflineReranker = ReturnType<typeof createOfflineReranker>;
