import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/src/core/db/database.ts';
import { migrate, readMigrations, type Migration } from '../../server/src/core/db/migrator.ts';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';

async function appliedRows(db: Database) {
  const { rows } = await db.query<{ version: number; name: string; n: number }>(
    'SELECT version, name, count(*) OVER (PARTITION BY version)::int AS n FROM schema_migrations ORDER BY version',
  );
  return rows;
}

async function tableExists(db: Database, name: string) {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`,
    [name],
  );
  return rows[0]!.n === 1;
}

let files: Migration[];
beforeAll(async () => {
  files = await readMigrations();
});

describe.each(backends)('migrations on %s', (backend) => {
  const opened: TestDatabase[] = [];
  const emptyDatabase = async () => {
    const testDb = await createTestDatabase(backend, { empty: true });
    opened.push(testDb);
    return testDb;
  };
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.dispose()));
  });

  describe('on an empty database', () => {
    let db: Database;
    beforeAll(async () => {
      db = (await emptyDatabase()).db;
    });

    it('applies every migration file in order and builds the schema with its indexes', async () => {
      const report = await migrate(db);
      expect(report.applied).toContain('001_core_schema.sql');
      expect(report.applied).toEqual(files.map((f) => f.name));
      expect(report.alreadyApplied).toBe(0);

      const rows = await appliedRows(db);
      expect(rows.map((r) => r.name)).toEqual(files.map((f) => f.name));

      const ext = await db.query<{ extversion: string }>(
        `SELECT extversion FROM pg_extension WHERE extname = 'vector'`,
      );
      expect(ext.rows).toHaveLength(1);
      for (const table of ['users', 'chunks', 'messages', 'audit_log']) expect(await tableExists(db, table)).toBe(true);

      const { rows: indexes } = await db.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'chunks'`,
      );
      const defs = indexes.map((i) => i.indexdef);
      expect(defs).toEqual(
        expect.arrayContaining([expect.stringMatching(/USING hnsw \(embedding vector_cosine_ops\)/)]),
      );
      expect(defs).toEqual(expect.arrayContaining([expect.stringMatching(/USING gin \(tsv\)/)]));
    });

    it('applies nothing the second time and says how many were applied before', async () => {
      const report = await migrate(db);
      expect(report).toEqual({ applied: [], alreadyApplied: files.length });
      expect((await appliedRows(db)).every((r) => r.n === 1)).toBe(true);
    });

    it('refuses a migration that was edited after it was applied (forward-only)', async () => {
      const edited = files.map((m, i) =>
        i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: `${m.checksum.slice(0, -4)}beef` } : m,
      );
      await expect(migrate(db, edited)).rejects.toThrow(/001_core_schema\.sql was changed.*forward-only/s);
      // The recorded checksum still is the original one.
      const { rows } = await db.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = 1');
      expect(rows[0]!.checksum).toBe(files[0]!.checksum);
    });

    it('rolls a failing migration back completely and records nothing for it', async () => {
      const broken: Migration = {
        version: files.length + 1,
        name: `${String(files.length + 1).padStart(3, '0')}_broken.sql`,
        sql: 'CREATE TABLE half_done (id int); SELECT no_such_column FROM users;',
        checksum: 'broken',
      };
      await expect(migrate(db, [...files, broken])).rejects.toThrow(/no_such_column/);
      expect(await tableExists(db, 'half_done')).toBe(false);
      expect((await appliedRows(db)).map((r) => r.name)).toEqual(files.map((f) => f.name));
    });
  });

  if (backend === 'pglite') {
    it('two concurrent migrate() calls on one database apply each migration once', async () => {
      const { db } = await emptyDatabase();
      const [a, b] = await Promise.all([migrate(db), migrate(db)]);
      expect([...a.applied, ...b.applied].sort()).toEqual(files.map((f) => f.name));
      expect(a.alreadyApplied + b.alreadyApplied).toBe(files.length);
      const rows = await appliedRows(db);
      expect(rows.map((r) => r.name)).toEqual(files.map((f) => f.name));
      expect(rows.every((r) => r.n === 1)).toBe(true);
      // PGlite applies the whole schema twice over in WASM: slow on a busy two-core machine.
    }, 90_000);
  }

  if (backend === 'postgres') {
    afterEach(killAllChildren);

    it('two `npm run migrate` processes started together both succeed and apply each migration once', async () => {
      const testDb = await emptyDatabase();
      const env = childEnv({ DATABASE_URL: testDb.url! });
      const procs = [0, 1].map(() => spawnTs('server/src/cli/migrate.ts', [], { env, via: 'tsx-cli' }));
      const exits = await Promise.all(procs.map((p) => p.waitForExit(30_000)));
      for (const [i, exit] of exits.entries()) {
        expect(exit.code, procs[i]!.stderr()).toBe(0);
      }
      // Between them they applied every file once; the one that lost the race found them applied.
      const applied = procs.flatMap((p) => /Applied \d+ migration\(s\): (.*)/.exec(p.stdout())?.[1]?.split(', ') ?? []);
      expect(applied.sort()).toEqual(files.map((f) => f.name));
      const rows = await appliedRows(testDb.db);
      expect(rows.map((r) => r.name)).toEqual(files.map((f) => f.name));
      expect(rows.every((r) => r.n === 1)).toBe(true);
      expect(await tableExists(testDb.db, 'chunks')).toBe(true);
    });
  }
});

describe('readMigrations', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'enclave-migrations-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the project migrations numbered 1, 2, 3 … with content checksums', () => {
    expect(files.map((f) => f.version)).toEqual(files.map((_, i) => i + 1));
    expect(files[0]!.name).toBe('001_core_schema.sql');
    expect(files[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a gap in the numbering', async () => {
    await writeFile(path.join(dir, '001_first.sql'), 'SELECT 1;');
    await writeFile(path.join(dir, '003_third.sql'), 'SELECT 3;');
    await expect(readMigrations(dir)).rejects.toThrow(/without gaps.*003_third\.sql/);
  });
});
