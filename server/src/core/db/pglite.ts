import { mkdir } from 'node:fs/promises';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Database, Queryable, QueryResult } from './database.ts';

type PGliteLike = Pick<PGlite, 'query' | 'exec'> | Transaction;

// Same value shapes as the `pg` backend: int8 as number, timestamps as Date (PGlite's default).
const parsers = { [types.INT8]: (v: string) => Number(v) };

function wrap(client: PGliteLike): Queryable {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const result = await client.query<R>(sql, params as unknown[], { parsers });
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(sql: string) {
      await client.exec(sql);
    },
  };
}

/**
 * PGlite (Postgres compiled to WASM) with pgvector, persisted under `dataDir` or, without one,
 * in memory. `loadDataDir` starts from a dump (tests clone a migrated template this way).
 */
export async function createPgliteDatabase(
  options: { dataDir?: string; loadDataDir?: Blob } = {},
): Promise<Database & { pglite: PGlite }> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const pglite = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    extensions: { vector },
  });
  return {
    kind: 'pglite',
    pglite,
    ...wrap(pglite),
    // PGlite has a single backend: its transaction() holds an internal lock, so other queries wait.
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}
