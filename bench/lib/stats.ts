/** Nearest-rank percentile of an ascending array (0 < p ≤ 100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A deterministic pseudo-random generator (mulberry32): the same data every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `task` from `concurrency` loops until `deadline` (ms since epoch) or `count` tasks have started. */
export async function runLoops(
  concurrency: number,
  until: { deadline?: number; count?: number },
  task: (i: number, loop: number) => Promise<void>,
): Promise<number> {
  let started = 0;
  const loop = async (l: number) => {
    for (;;) {
      if (until.count !== undefined && started >= until.count) return;
      if (until.deadline !== undefined && Date.now() >= until.deadline) return;
      const i = started++;
      await task(i, l);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, l) => loop(l)));
  return started;
}
