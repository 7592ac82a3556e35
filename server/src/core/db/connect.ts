import path from 'node:path';
import type { Config } from '../../config.ts';
import type { Database } from './database.ts';
import { createPostgresDatabase } from './postgres.ts';
import { createPgliteDatabase } from './pglite.ts';

/** Postgres when DATABASE_URL is set, otherwise the embedded PGlite under DATA_DIR/pglite. */
export async function connectDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  if (config.databaseUrl) return createPostgresDatabase(config.databaseUrl);
  return createPgliteDatabase({ dataDir: path.join(config.dataDir, 'pglite') });
}
