import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import { connectDatabase } from '../core/db/connect.ts';
import type { Database } from '../core/db/database.ts';
import { storedEmbeddingSpace } from '../core/db/embedding-space.ts';
import { readMigrations } from '../core/db/migrator.ts';
import { createPgliteDatabase } from '../core/db/pglite.ts';
import { message, redactUrl, withTimeout, type Row } from './doctor-checks.ts';
import { createDoctorRepository } from './doctor.repository.ts';

/** `npm run doctor`'s database checks: reachable, version, pgvector, migrations, clock, outbox backlog. */

/** Opens the configured database; the embedded one only when it exists (doctor never creates it). */
export async function openDatabase(config: Config): Promise<{ db?: Database; row: Row }> {
  if (config.databaseUrl) {
    const label = redactUrl(config.databaseUrl);
    let db: Database | undefined;
    try {
      db = await connectDatabase(config);
      const { text: v, number: n } = await withTimeout(createDoctorRepository(db).serverVersion(), 'the database');
      const short = v.split(' on ')[0]!;
      if (n < 150000) {
        return {
          db,
          row: {
            check: 'database',
            status: 'fail',
            detail: `${short} at ${label}; Enclave needs PostgreSQL 15 or later`,
            fix: 'Upgrade PostgreSQL to 15+ (17 recommended)',
          },
        };
      }
      return { db, row: { check: 'database', status: 'ok', detail: `${short} at ${label}` } };
    } catch (error) {
      await db?.close().catch(() => {});
      return {
        row: {
          check: 'database',
          status: 'fail',
          detail: `cannot reach ${label}: ${message(error)}`,
          fix: 'Check DATABASE_URL (host, port, user, password, database), that PostgreSQL is running and that this host may connect (pg_hba.conf, firewall)',
        },
      };
    }
  }
  const dir = path.join(config.dataDir, 'pglite');
  const fresh = !existsSync(dir);
  try {
    // A data directory not created yet is checked in memory: same engine, nothing written.
    const db = fresh ? await createPgliteDatabase() : await createPgliteDatabase({ dataDir: dir });
    const engine = (await createDoctorRepository(db).versionText()).split(' on ')[0]!;
    return {
      db,
      row: {
        check: 'database',
        status: 'ok',
        detail: `embedded PGlite (${engine}) ${fresh ? `— created under ${dir} at first start` : `at ${dir}`}`,
      },
    };
  } catch (error) {
    return {
      row: {
        check: 'database',
        status: 'fail',
        detail: `cannot open the embedded database at ${dir}: ${message(error)}`,
        fix: 'Stop the running Enclave first (the embedded database is single-process), or restore DATA_DIR from a backup',
      },
    };
  }
}

export async function checkPgvector(db: Database): Promise<Row[]> {
  try {
    const { installed, available } = await createDoctorRepository(db).pgvector();
    const version = installed ?? available;
    if (!version) {
      return [
        {
          check: 'pgvector',
          status: 'fail',
          detail: 'the vector extension is not available to this server',
          fix: 'Install pgvector ≥ 0.7 for this PostgreSQL (scripts/install-pgvector.sh, or the pgvector/pgvector image)',
        },
      ];
    }
    const [major = 0, minor = 0] = version.split(/[.\s]/).map(Number);
    const at = installed ? 'installed' : 'available, created by the first migration';
    if (major === 0 && minor < 7) {
      return [
        {
          check: 'pgvector',
          status: 'fail',
          detail: `vector ${version} (${at}); Enclave needs 0.7+`,
          fix: 'Upgrade pgvector, then ALTER EXTENSION vector UPDATE',
        },
      ];
    }
    if (major === 0 && minor < 8) {
      return [
        {
          check: 'pgvector',
          status: 'warn',
          detail: `vector ${version} (${at}); no iterative index scans (0.8+): filtered searches may return fewer hits`,
          fix: 'Upgrade pgvector to 0.8+, then ALTER EXTENSION vector UPDATE',
        },
      ];
    }
    return [{ check: 'pgvector', status: 'ok', detail: `vector ${version} (${at}); iterative index scans available` }];
  } catch (error) {
    return [
      {
        check: 'pgvector',
        status: 'fail',
        detail: message(error),
        fix: 'Check the database role may read pg_extension',
      },
    ];
  }
}

export async function checkMigrations(db: Database): Promise<Row> {
  try {
    const files = await readMigrations();
    const repo = createDoctorRepository(db);
    const created = await repo.tableExists('schema_migrations');
    if (!created && db.kind === 'pglite') {
      return {
        check: 'migrations',
        status: 'ok',
        detail: `embedded database not created yet: ${files.length} migration(s) run at first start`,
      };
    }
    if (!created) {
      return {
        check: 'migrations',
        status: 'warn',
        detail: `empty database: ${files.length} migration(s) to apply`,
        fix: 'npm run migrate (servers also migrate at start)',
      };
    }
    const rows = await repo.appliedMigrations();
    const changed = rows.filter((r) => files.find((f) => f.version === r.version)?.checksum !== r.checksum);
    if (changed.length) {
      return {
        check: 'migrations',
        status: 'fail',
        detail: `applied migration(s) ${changed.map((c) => c.version).join(', ')} differ from the files (or are unknown to this version)`,
        fix: 'Run the Enclave version that matches this database; migrations are forward-only',
      };
    }
    const pending = files.length - rows.length;
    return pending > 0
      ? {
          check: 'migrations',
          status: 'warn',
          detail: `${rows.length} applied, ${pending} pending`,
          fix: 'npm run migrate (servers also migrate at start)',
        }
      : { check: 'migrations', status: 'ok', detail: `${rows.length} applied, none pending` };
  } catch (error) {
    return { check: 'migrations', status: 'fail', detail: message(error) };
  }
}

/** The vector column's dimension and model, from embedding_space (undefined on an empty database). */
export async function indexSpace(db: Database): Promise<{ model: string; dimensions: number } | undefined> {
  const repo = createDoctorRepository(db);
  return (await repo.tableExists('embedding_space')) ? storedEmbeddingSpace(db) : undefined;
}

export async function checkClock(db: Database): Promise<Row> {
  try {
    const before = Date.now();
    const databaseMs = await createDoctorRepository(db).clockMs();
    const after = Date.now();
    const skew = databaseMs - (before + after) / 2;
    const detail = `database clock ${skew >= 0 ? 'ahead of' : 'behind'} this host by ${Math.abs(skew).toFixed(0)} ms (round trip ${after - before} ms)`;
    if (Math.abs(skew) > 30_000)
      return {
        check: 'clock skew',
        status: 'fail',
        detail,
        fix: 'Synchronise both hosts with NTP (chrony/systemd-timesyncd): sessions, throttling and audit times depend on it',
      };
    if (Math.abs(skew) > 2_000)
      return { check: 'clock skew', status: 'warn', detail, fix: 'Synchronise both hosts with NTP' };
    return { check: 'clock skew', status: 'ok', detail };
  } catch (error) {
    return { check: 'clock skew', status: 'fail', detail: message(error) };
  }
}

/** Older than this, an outbox row is not a commit in flight but work the job runner is not getting. */
const OUTBOX_STUCK_SECONDS = 60;

/** Jobs committed in the outbox that no relay has handed to the job runner yet (core/jobs/outbox.ts). */
export async function checkOutbox(db: Database): Promise<Row> {
  try {
    const repo = createDoctorRepository(db);
    if (!(await repo.tableExists('outbox')))
      return { check: 'outbox', status: 'ok', detail: 'not created yet (a migration to apply)' };
    const { pending, oldestSeconds, lastError } = await withTimeout(repo.outboxBacklog(), 'the database');
    if (!pending) return { check: 'outbox', status: 'ok', detail: 'every committed job was handed to the job runner' };
    const detail = `${pending} job(s) not handed to the job runner, oldest ${Math.round(oldestSeconds)} s${lastError ? ` (last error: ${lastError})` : ''}`;
    return oldestSeconds > OUTBOX_STUCK_SECONDS
      ? {
          check: 'outbox',
          status: 'warn',
          detail,
          fix: 'Answers and indexing wait for them: check that Redis is reachable (the redis row) and that a server or worker is running',
        }
      : { check: 'outbox', status: 'ok', detail };
  } catch (error) {
    return { check: 'outbox', status: 'fail', detail: message(error) };
  }
}
