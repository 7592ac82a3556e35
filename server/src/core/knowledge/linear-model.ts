import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * A logistic model over named features, as `npm run fit:answers` writes it: each feature is
 * standardised with the mean and scale seen in fitting, then weighted. Small enough to read, to
 * diff when refitted, and to run per candidate passage in microseconds.
 */
export const linearModelSchema = z.strictObject({
  features: z.array(z.string()).min(1),
  mean: z.array(z.number()),
  scale: z.array(z.number()),
  weights: z.array(z.number()),
  bias: z.number(),
});

export type LinearModel = z.infer<typeof linearModelSchema>;

export function logit(model: LinearModel, x: Readonly<Record<string, number>>): number {
  let z = model.bias;
  model.features.forEach((name, i) => {
    z += (model.weights[i]! * ((x[name] ?? 0) - model.mean[i]!)) / model.scale[i]!;
  });
  return z;
}

export function probability(model: LinearModel, x: Readonly<Record<string, number>>): number {
  return 1 / (1 + Math.exp(-logit(model, x)));
}

/** Reads a fitted model shipped beside the code; a broken file stops the start, never a search. */
export function readFittedModel<T extends z.ZodType>(file: URL, schema: T): z.infer<T> {
  return schema.parse(JSON.parse(readFileSync(file, 'utf8')));
}
