import type { Queryable } from '../core/db/database.ts';

/** What `npm run doctor` asks the database about itself: versions, extensions, bookkeeping tables, clock. */
export function createDoctorRepository(db: Queryable) {
  return {
    /** `version()` text and `server_version_num`. */
    async serverVersion(): Promise<{ text: string; number: number }> {
      const { rows } = await db.query<{ v: string; n: number }>(
        `SELECT version() AS v, current_setting('server_version_num')::int AS n`,
      );
      return { text: rows[0]!.v, number: rows[0]!.n };
    },
    async versionText(): Promise<string> {
      const { rows } = await db.query<{ v: string }>('SELECT version() AS v');
      return rows[0]!.v;
    },
    /** pgvector's version as created in this database, and as this server could create it. */
    async pgvector(): Promise<{ installed: string | undefined; available: string | undefined }> {
      const installed = await db.query<{ v: string }>(
        `SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`,
      );
      const available = await db.query<{ v: string | null }>(
        `SELECT default_version AS v FROM pg_available_extensions WHERE name = 'vector'`,
      );
      return { installed: installed.rows[0]?.v, available: available.rows[0]?.v ?? undefined };
    },
    async tableExists(name: 'schema_migrations' | 'embedding_space' | 'outbox'): Promise<boolean> {
      const { rows } = await db.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [name]);
      return Boolean(rows[0]?.t);
    },
    async appliedMigrations(): Promise<{ version: number; checksum: string }[]> {
      const { rows } = await db.query<{ version: number; checksum: string }>(
        'SELECT version, checksum FROM schema_migrations ORDER BY version',
      );
      return rows;
    },
    /** Jobs committed but not yet handed to the job runner: how many, the oldest's age, the last error. */
    async outboxBacklog(): Promise<{ pending: number; oldestSeconds: number; lastError: string | null }> {
      const { rows } = await db.query<{ pending: number; oldest: number | null; last_error: string | null }>(
        `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest,
                (SELECT last_error FROM outbox WHERE last_error IS NOT NULL ORDER BY id DESC LIMIT 1) AS last_error
           FROM outbox WHERE dispatched_at IS NULL`,
      );
      const r = rows[0]!;
      return { pending: r.pending, oldestSeconds: Math.max(0, r.oldest ?? 0), lastError: r.last_error };
    },
    /** The database's clock, in epoch milliseconds. */
    async clockMs(): Promise<number> {
      const { rows } = await db.query<{ t: number }>(
        `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS t`,
      );
      return Number(rows[0]!.t);
    },
  };
}
