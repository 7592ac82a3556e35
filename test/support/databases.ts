import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database } from '../../server/src/core/db/database.ts';
import { createPgliteDatabase } from '../../server/src/core/db/pglite.ts';
import { createPostgresDatabase } from '../../server/src/core/db/postgres.ts';

export type Backend = 'pglite' | 'postgres';

/** PGlite always; real Postgres as well when TEST_DATABASE_URL is set (CI sets it). */
export const backends: Backend[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  db: Database;
  /** A `postgres://` URL for child processes (Postgres backend only). */
  url?: string;
  dispose(): Promise<void>;
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A clean database of its own: migrated (cloned from the run's template) unless `empty` is asked for. */
export async function createTestDatabase(backend: Backend, options: { empty?: boolean } = {}): Promise<TestDatabase> {
  if (backend === 'pglite') {
    const db = options.empty
      ? await createPgliteDatabase()
      : await createPgliteDatabase({ loadDataDir: new Blob([await readFile(inject('pgliteTemplate'))]) });
    return { db, dispose: () => db.close() };
  }
  const template = inject('postgresTemplate');
  if (!template) throw new Error('TEST_DATABASE_URL is set but no Postgres template was prepared');
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) =>
    c.query(options.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`),
  );
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  const db = createPostgresDatabase(url.toString(), { max: 5 });
  return {
    db,
    url: url.toString(),
    async dispose() {
      await db.close();
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
