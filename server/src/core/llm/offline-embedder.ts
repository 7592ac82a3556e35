import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hanBigrams, hanWords, runs, stemWord } from '../knowledge/text/tokenize.ts';
import type { EmbeddingProvider } from './embedding-provider.ts';

/**
 * The built-in offline embedder (docs/retrieval.md): a deterministic lexical embedding. Features are
 * stemmed words, English character trigrams (morphology), Chinese jieba words weighted by jieba's
 * bundled IDF table, Chinese character bigrams and unigrams; each hashed (signed) into `dimensions`
 * buckets with sublinear term frequency, then L2-normalised, so cosine similarity ≈ a weighted
 * lexical overlap. No model, no network: it works air-gapped and in tests, and is honest about
 * being lexical (it cannot match synonyms).
 */

export interface OfflineWeights {
  word: number;
  trigram: number;
  hanWord: number;
  hanBigram: number;
  hanChar: number;
}

export const DEFAULT_OFFLINE_WEIGHTS: OfflineWeights = {
  word: 1,
  trigram: 0.25,
  hanWord: 1,
  hanBigram: 0.8,
  hanChar: 0.25,
};

let idfTable: Map<string, number> | undefined;
let idfMedian = 10;
function chineseIdf(): Map<string, number> {
  if (idfTable) return idfTable;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@node-rs/jieba/idf.txt');
  const table = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const space = line.lastIndexOf(' ');
    if (space > 0) table.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  const values = [...table.values()].sort((a, b) => a - b);
  idfMedian = values[Math.floor(values.length / 2)] ?? 10;
  idfTable = table;
  return table;
}

/** Feature → weight before hashing (exported for tests and tuning). */
export function offlineFeatures(text: string, weights: OfflineWeights = DEFAULT_OFFLINE_WEIGHTS): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  const idf = chineseIdf();
  for (const run of runs(text)) {
    if (run.han) {
      for (const word of hanWords(run.text, 'index')) {
        if ([...word].length < 2) continue;
        add(`w:${word}`, weights.hanWord * Math.min(1.5, (idf.get(word) ?? idfMedian) / idfMedian));
      }
      for (const gram of hanBigrams(run.text)) if ([...gram].length === 2) add(`b:${gram}`, weights.hanBigram);
      for (const ch of run.text) add(`c:${ch}`, weights.hanChar);
    } else {
      const stem = stemWord(run.text);
      if (!stem) continue;
      add(`w:${stem}`, weights.word);
      if (weights.trigram > 0 && stem.length >= 4) {
        const padded = `^${stem}$`;
        for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, weights.trigram);
      }
    }
  }
  // Sublinear term frequency: a word said ten times is not ten times as relevant.
  for (const [feature, weight] of counts) counts.set(feature, Math.sign(weight) * Math.log1p(Math.abs(weight)));
  return counts;
}

/**
 * Feature → bucket, per dimension: the md5 of a feature is the embedder's costliest step and the
 * same words recur in every document. Packed as `index * 2 + (sign > 0 ? 1 : 0)`.
 */
const bucketCache = new Map<number, Map<string, number>>();
function bucket(feature: string, dimensions: number): number {
  let cache = bucketCache.get(dimensions);
  if (!cache) bucketCache.set(dimensions, (cache = new Map()));
  let packed = cache.get(feature);
  if (packed === undefined) {
    const digest = hash('md5', feature, 'buffer');
    packed = (digest.readUInt32LE(0) % dimensions) * 2 + (digest[4]! & 1);
    if (cache.size > 200_000) cache.clear();
    cache.set(feature, packed);
  }
  return packed;
}

export function embedOffline(
  text: string,
  dimensions: number,
  weights: OfflineWeights = DEFAULT_OFFLINE_WEIGHTS,
  /** Query-side reweighting of a feature (e.g. by how rare its term is in the corpus). */
  reweight?: (feature: string) => number,
): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const [feature, weight] of offlineFeatures(text, weights)) {
    const packed = bucket(feature, dimensions);
    vector[packed >> 1]! += (packed & 1 ? 1 : -1) * weight * (reweight ? reweight(feature) : 1);
  }
  const norm = Math.hypot(...vector);
  // An empty text (only punctuation) still gets a valid unit vector so the column stays comparable.
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

export function createOfflineEmbedder(options: {
  model: string;
  dimensions: number;
  weights?: OfflineWeights;
}): EmbeddingProvider {
  return {
    model: options.model,
    dimensions: options.dimensions,
    batchSize: 256,
    async embed(texts) {
      // ~1–10 ms a text: yield between small slices so a big batch never stalls the event loop
      // (HTTP, WebSocket, BullMQ lock renewal share it).
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i++) {
        if (i > 0 && i % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
        out.push(embedOffline(texts[i]!, options.dimensions, options.weights));
      }
      return out;
    },
  };
}
