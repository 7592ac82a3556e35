import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../server/src/core/db/database.ts';
import {
  EmbeddingSpaceMismatchError,
  ensureEmbeddingSpace,
  switchEmbeddingSpace,
} from '../../server/src/core/db/embedding-space.ts';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.ts';

async function columnDimensions(db: Database): Promise<number> {
  const { rows } = await db.query<{ dims: number }>(
    `SELECT atttypmod AS dims FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'`,
  );
  return rows[0]!.dims;
}

async function storedSpace(db: Database) {
  const { rows } = await db.query<{ model: string; dimensions: number; updated_at: Date }>(
    'SELECT model, dimensions, updated_at FROM embedding_space',
  );
  return rows;
}

async function hasHnswIndex(db: Database): Promise<boolean> {
  const { rows } = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'chunks'`);
  return rows.some((r) => /USING hnsw \(embedding vector_cosine_ops\)/.test(r.indexdef));
}

const vector = (dimensions: number) =>
  `[${Array.from({ length: dimensions }, (_, i) => ((i % 7) + 1) / 10).join(',')}]`;

/** One collection → document → chunk embedded with a `dimensions`-long vector; returns the chunk id. */
async function insertEmbeddedChunk(db: Database, dimensions: number): Promise<number> {
  const collection = await db.query<{ id: string }>(`INSERT INTO collections (name) VALUES ('Handbook') RETURNING id`);
  const document = await db.query<{ id: string }>(
    `INSERT INTO documents (collection_id, title, source, mime, sha256)
     VALUES ($1, 'Leave policy', 'text', 'text/plain', md5(random()::text)) RETURNING id`,
    [collection.rows[0]!.id],
  );
  const chunk = await db.query<{ id: number }>(
    `INSERT INTO chunks (document_id, collection_id, ord, text, token_count, embedding, tsv)
     VALUES ($1, $2, 0, 'Employees get 25 days of leave.', 7, $3::vector, to_tsvector('simple', 'x')) RETURNING id`,
    [document.rows[0]!.id, collection.rows[0]!.id, vector(dimensions)],
  );
  return chunk.rows[0]!.id;
}

async function embeddedCount(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks WHERE embedding IS NOT NULL');
  return rows[0]!.n;
}

describe.each(backends)('embedding space on %s', (backend) => {
  let testDb: TestDatabase;
  let db: Database;
  beforeEach(async () => {
    testDb = await createTestDatabase(backend);
    db = testDb.db;
  });
  afterEach(() => testDb?.dispose());

  it('sizes the vector column to the configured model at first start, then leaves stored vectors alone', async () => {
    expect(await columnDimensions(db)).toBe(512); // the migration's default
    await ensureEmbeddingSpace(db, { model: 'm', dimensions: 768 });
    expect(await columnDimensions(db)).toBe(768);
    expect(await hasHnswIndex(db)).toBe(true);
    const [recorded] = await storedSpace(db);
    expect(recorded).toMatchObject({ model: 'm', dimensions: 768 });

    // A restart with the same configuration is a no-op: nothing re-typed, no vector cleared.
    const chunkId = await insertEmbeddedChunk(db, 768);
    await ensureEmbeddingSpace(db, { model: 'm', dimensions: 768 });
    expect(await embeddedCount(db)).toBe(1);
    const [after] = await storedSpace(db);
    expect(after!.updated_at.getTime()).toBe(recorded!.updated_at.getTime());
    const { rows } = await db.query<{ dims: number }>(
      'SELECT vector_dims(embedding) AS dims FROM chunks WHERE id = $1',
      [chunkId],
    );
    expect(rows[0]!.dims).toBe(768);
  });

  it('adopts a different model silently while nothing has been embedded yet', async () => {
    await ensureEmbeddingSpace(db, { model: 'm', dimensions: 768 });
    await ensureEmbeddingSpace(db, { model: 'small', dimensions: 256 });
    expect(await columnDimensions(db)).toBe(256);
    expect(await storedSpace(db)).toEqual([expect.objectContaining({ model: 'small', dimensions: 256 })]);
  });

  it('refuses to start with another model once chunks are embedded, pointing at `npm run reembed`', async () => {
    await ensureEmbeddingSpace(db, { model: 'm', dimensions: 768 });
    await insertEmbeddedChunk(db, 768);

    const attempt = ensureEmbeddingSpace(db, { model: 'm2', dimensions: 384 });
    await expect(attempt).rejects.toBeInstanceOf(EmbeddingSpaceMismatchError);
    await expect(attempt).rejects.toThrow(/1 chunks embedded with "m" \(768 dimensions\).*`npm run reembed`/s);
    // Same dimension, different model: the vectors are just as incomparable.
    await expect(ensureEmbeddingSpace(db, { model: 'other-768', dimensions: 768 })).rejects.toBeInstanceOf(
      EmbeddingSpaceMismatchError,
    );
    // Nothing was touched.
    expect(await columnDimensions(db)).toBe(768);
    expect(await embeddedCount(db)).toBe(1);
    expect(await storedSpace(db)).toEqual([expect.objectContaining({ model: 'm', dimensions: 768 })]);

    // The explicit switch clears the vectors (keeping the chunks) and retypes the column.
    await switchEmbeddingSpace(db, { model: 'm2', dimensions: 384 });
    expect(await columnDimensions(db)).toBe(384);
    expect(await embeddedCount(db)).toBe(0);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM chunks');
    expect(rows[0]!.n).toBe(1);
    expect(await hasHnswIndex(db)).toBe(true);
    expect(await storedSpace(db)).toEqual([expect.objectContaining({ model: 'm2', dimensions: 384 })]);
    // … after which the next start with the new model goes through.
    await ensureEmbeddingSpace(db, { model: 'm2', dimensions: 384 });
  });
});
