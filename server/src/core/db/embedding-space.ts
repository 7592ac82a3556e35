import type { Database, Queryable } from './database.ts';

export interface EmbeddingSpace {
  model: string;
  dimensions: number;
}

export class EmbeddingSpaceMismatchError extends Error {
  constructor(stored: EmbeddingSpace, configured: EmbeddingSpace, chunks: number) {
    super(
      `The knowledge index holds ${chunks} chunks embedded with "${stored.model}" (${stored.dimensions} dimensions), ` +
        `but the configuration asks for "${configured.model}" (${configured.dimensions} dimensions). ` +
        'Restore the previous EMBEDDING_MODEL/EMBEDDING_DIMENSIONS, or run `npm run reembed` to re-embed every document with the new model.',
    );
    this.name = 'EmbeddingSpaceMismatchError';
  }
}

const LOCK_KEY = 4_242_002;

/** The vector index as migration 007 defines it (rebuilt here when the column is retyped). */
export const HNSW_INDEX_SQL =
  'CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128)';

/** The embedding model and dimension the stored vectors were made with (none before the first start). */
export async function storedEmbeddingSpace(db: Queryable): Promise<EmbeddingSpace | undefined> {
  const { rows } = await db.query<EmbeddingSpace>('SELECT model, dimensions FROM embedding_space');
  return rows[0];
}

async function columnDimensions(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ dims: number }>(
    `SELECT atttypmod AS dims FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'`,
  );
  return Number(rows[0]?.dims);
}

/** Retypes the embedding column (clearing every stored vector) and rebuilds its HNSW index. */
async function retypeColumn(tx: Queryable, dimensions: number): Promise<void> {
  await tx.exec(`
    DROP INDEX IF EXISTS chunks_embedding_hnsw;
    ALTER TABLE chunks ALTER COLUMN embedding TYPE vector(${Math.trunc(dimensions)}) USING NULL;
    ${HNSW_INDEX_SQL};
  `);
}

async function record(tx: Queryable, space: EmbeddingSpace): Promise<void> {
  await tx.query(
    `INSERT INTO embedding_space (singleton, model, dimensions) VALUES (true, $1, $2)
     ON CONFLICT (singleton) DO UPDATE SET model = EXCLUDED.model, dimensions = EXCLUDED.dimensions, updated_at = now()`,
    [space.model, space.dimensions],
  );
}

/**
 * Fixes the vector column to the configured embedding model at first start. The dimension lives in
 * the schema (HNSW needs a typed column), so it is set once from config; while no chunk has been
 * embedded a different model is adopted silently, afterwards the start stops with instructions
 * rather than mixing incomparable vectors.
 */
export async function ensureEmbeddingSpace(db: Database, configured: EmbeddingSpace): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    const stored = await storedEmbeddingSpace(tx);
    if (stored && stored.model === configured.model && stored.dimensions === configured.dimensions) return;
    const embedded = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE embedding IS NOT NULL');
    const chunks = embedded.rows[0]?.n ?? 0;
    if (stored && chunks > 0) throw new EmbeddingSpaceMismatchError(stored, configured, chunks);
    if ((await columnDimensions(tx)) !== configured.dimensions) await retypeColumn(tx, configured.dimensions);
    await record(tx, configured);
  });
}

/**
 * Switches to another embedding model: clears every vector and retypes the column. The caller then
 * re-queues every document for ingestion so the index fills again with comparable vectors.
 */
export async function switchEmbeddingSpace(db: Database, next: EmbeddingSpace): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await retypeColumn(tx, next.dimensions);
    await record(tx, next);
  });
}
