import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { OFFLINE_EMBEDDING_DIMENSIONS, OFFLINE_EMBEDDING_MODEL } from '../../server/src/config.ts';
import { ensureEmbeddingSpace } from '../../server/src/core/db/embedding-space.ts';
import { migrate } from '../../server/src/core/db/migrator.ts';
import { createPgliteDatabase } from '../../server/src/core/db/pglite.ts';

export type BackendName = 'embedded' | 'postgres';

/** Where the Postgres server is; a fresh database is created on it per scenario and dropped after. */
export function postgresServerUrl(): string {
  return (
    process.env.BENCH_DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    process.env.DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/postgres'
  );
}

export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Both backends by default when a Postgres URL and REDIS_URL are in the environment, else the embedded one. */
export function defaultBackends(): BackendName[] {
  const hasPostgres = Boolean(
    process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL,
  );
  return hasPostgres && process.env.REDIS_URL ? ['embedded', 'postgres'] : ['embedded'];
}

/** One scenario's deployment: the environment for the Enclave child, and its clean-up. */
export interface Deployment {
  backend: BackendName;
  /** Environment for the server child (DATA_DIR, and DATABASE_URL/REDIS_URL/REDIS_PREFIX on Postgres). */
  env: Record<string, string>;
  databaseUrl?: string;
  redisUrl?: string;
  redisPrefix?: string;
  dataDir: string;
  /**
   * Before a measured phase: writes out what earlier work left dirty (a CHECKPOINT on Postgres), so
   * a background flush of the previous phase's writes — the 100k-chunk load, a database created and
   * seeded — does not share the disk with the phase (every commit waits for its WAL fsync on that
   * disk). No-op when embedded.
   */
  quiesce(): Promise<void>;
  dispose(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresServerUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

let template: Promise<string> | undefined;

/** Removes the PGlite template (the end of a run; an exit hook backs this up). */
export async function disposeTemplate(): Promise<void> {
  if (!template) return;
  const dir = await template.catch(() => undefined);
  template = undefined;
  if (dir) await rm(path.dirname(dir), { recursive: true, force: true });
}
/**
 * A migrated PGlite data directory, made once per bench process and copied for each embedded
 * deployment: initdb in WASM plus the migrations cost seconds a time, a copy a fraction of one.
 */
function embeddedTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-bench-template-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const db = await createPgliteDatabase({ dataDir: path.join(dir, 'pglite') });
    await migrate(db);
    await ensureEmbeddingSpace(db, { model: OFFLINE_EMBEDDING_MODEL, dimensions: OFFLINE_EMBEDDING_DIMENSIONS });
    await db.close();
    return path.join(dir, 'pglite');
  })();
  return template;
}

export async function createDeployment(backend: BackendName, label: string): Promise<Deployment> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `enclave-bench-${label}-`));
  if (backend === 'embedded') {
    // The server's embedded database lives at DATA_DIR/pglite (core/db/connect.ts).
    await cp(await embeddedTemplate(), path.join(dataDir, 'pglite'), { recursive: true });
    return {
      backend,
      env: { DATA_DIR: dataDir },
      dataDir,
      quiesce: async () => {},
      dispose: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `encbench_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(postgresServerUrl());
  url.pathname = `/${name}`;
  const prefix = `enclave-bench-${randomBytes(4).toString('hex')}`;
  const redis = redisUrl();
  return {
    backend,
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString(), REDIS_URL: redis, REDIS_PREFIX: prefix },
    databaseUrl: url.toString(),
    redisUrl: redis,
    redisPrefix: prefix,
    dataDir,
    async quiesce() {
      // CHECKPOINT needs a superuser or pg_checkpoint; without either, the phase runs as it is.
      await admin((c) => c.query('CHECKPOINT')).catch(() => {});
    },
    async dispose() {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => {});
      await deleteRedisKeys(redis, prefix).catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
