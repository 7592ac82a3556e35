/** Turns texts into vectors of one fixed dimension (the `chunks.embedding` column's). */
export interface EmbeddingProvider {
  readonly model: string;
  readonly dimensions: number;
  /** Texts per request the provider prefers. */
  readonly batchSize: number;
  /** `query` and `document` may be embedded differently (asymmetric models, query-side weighting). */
  embed(texts: string[], kind: 'document' | 'query'): Promise<number[][]>;
}

/** pgvector's text form, for `$n::vector` parameters (works the same on Postgres and PGlite). */
export function toVectorLiteral(vector: readonly number[]): string {
  return `[${vector.map((v) => (Number.isFinite(v) ? Number(v.toFixed(7)) : 0)).join(',')}]`;
}
