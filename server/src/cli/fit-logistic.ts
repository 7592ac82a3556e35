import type { LinearModel } from '../core/knowledge/linear-model.ts';

export interface Example {
  x: Readonly<Record<string, number>>;
  y: 0 | 1;
}

/**
 * Logistic regression by full-batch gradient descent on standardised features with a small L2
 * penalty: deterministic (same data, same model), dependency-free, and quick at the sizes fitted
 * here (tens of thousands of rows, a dozen features).
 */
export function fitLogistic(
  examples: Example[],
  features: readonly string[],
  options: { l2?: number; epochs?: number; rate?: number } = {},
): LinearModel {
  const { l2 = 1e-3, epochs = 2000, rate = 0.5 } = options;
  const n = examples.length;
  if (!n) throw new Error('nothing to fit');
  const mean = features.map((f) => examples.reduce((s, e) => s + (e.x[f] ?? 0), 0) / n);
  const scale = features.map((f, i) => {
    const variance = examples.reduce((s, e) => s + ((e.x[f] ?? 0) - mean[i]!) ** 2, 0) / n;
    return Math.sqrt(variance) || 1;
  });
  const rows = examples.map((e) => features.map((f, i) => ((e.x[f] ?? 0) - mean[i]!) / scale[i]!));
  const weights = features.map(() => 0);
  let bias = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const grad = features.map(() => 0);
    let gradBias = 0;
    rows.forEach((row, r) => {
      let z = bias;
      for (let i = 0; i < row.length; i++) z += weights[i]! * row[i]!;
      const error = 1 / (1 + Math.exp(-z)) - examples[r]!.y;
      for (let i = 0; i < row.length; i++) grad[i]! += error * row[i]!;
      gradBias += error;
    });
    for (let i = 0; i < weights.length; i++) weights[i]! -= rate * (grad[i]! / n + l2 * weights[i]!);
    bias -= (rate * gradBias) / n;
  }
  const round = (v: number) => Number(v.toFixed(5));
  return {
    features: [...features],
    mean: mean.map(round),
    scale: scale.map(round),
    weights: weights.map(round),
    bias: round(bias),
  };
}
