import { existsSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { connectDatabase } from '../core/db/connect.ts';
import type { Database } from '../core/db/database.ts';
import { storedEmbeddingSpace } from '../core/db/embedding-space.ts';
import { readMigrations } from '../core/db/migrator.ts';
import { createPgliteDatabase } from '../core/db/pglite.ts';
import { createDoctorRepository } from './doctor.repository.ts';

/**
 * The checks behind `npm run doctor`. Each returns rows of (check, status, detail, fix); a `fail`
 * is blocking (the deployment will not work or will lose data), a `warn` is worth fixing.
 * Checks never throw: a check that cannot run reports why.
 */

export type Status = 'ok' | 'warn' | 'fail';
export interface Row {
  check: string;
  status: Status;
  detail: string;
  fix?: string;
}

const TIMEOUT_MS = 5000;

export function withTimeout<T>(promise: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

const message = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length)
    return error.errors.map((e: unknown): string => message(e)).join('; ');
  const e = error as { code?: string; message?: string };
  if (e?.code && e.message?.includes(e.code)) return e.message;
  return [e?.code, e?.message].filter(Boolean).join(' ') || String(error);
};
const redactUrl = (url: string) => url.replace(/(\/\/[^/:@]*:)[^/@]*@/, '$1***@');

export function checkNode(version = process.versions.node): Row {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = (major === 20 && minor >= 19) || (major >= 22 && major <= 24);
  return ok
    ? { check: 'node', status: 'ok', detail: `Node.js ${version}` }
    : {
        check: 'node',
        status: 'fail',
        detail: `Node.js ${version}; Enclave needs 20.19+ or 22–24`,
        fix: 'Install Node.js 24 LTS (or 20.19+), or run the container image',
      };
}

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

export async function checkRedis(config: Config): Promise<Row[]> {
  if (!config.redisUrl) {
    return [
      {
        check: 'redis',
        status: 'ok',
        detail: 'not configured: jobs run in-process, realtime events stay in this process (one server only)',
      },
    ];
  }
  const label = redactUrl(config.redisUrl);
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The connection error itself (ECONNREFUSED, ENOTFOUND, WRONGPASS …) arrives as an event.
  let lastError: unknown;
  redis.on('error', (error) => (lastError = error));
  try {
    await withTimeout(redis.connect(), 'Redis');
    const info = await withTimeout(redis.info(), 'Redis');
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
    const version = field('redis_version') ?? 'unknown';
    const rows: Row[] = [];
    const [major = 0, minor = 0] = version.split('.').map(Number);
    rows.push(
      major > 6 || (major === 6 && minor >= 2)
        ? { check: 'redis', status: 'ok', detail: `Redis ${version} at ${label}` }
        : {
            check: 'redis',
            status: 'fail',
            detail: `Redis ${version} at ${label}; BullMQ needs 6.2+`,
            fix: 'Upgrade Redis to 7.x',
          },
    );
    const policy =
      field('maxmemory_policy') ??
      (await redis
        .config('GET', 'maxmemory-policy')
        .then((r) => (r as string[])[1])
        .catch(() => undefined));
    rows.push(
      policy === 'noeviction'
        ? { check: 'redis maxmemory-policy', status: 'ok', detail: 'noeviction' }
        : {
            check: 'redis maxmemory-policy',
            status: 'fail',
            detail: `${policy ?? 'unknown'}: under memory pressure Redis would silently evict queued jobs`,
            fix: 'Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction and CONFIG REWRITE)',
          },
    );
    const aof = field('aof_enabled') === '1';
    const save = await redis
      .config('GET', 'save')
      .then((r) => String((r as string[])[1] ?? ''))
      .catch(() => undefined);
    // CONFIG may be disabled on managed Redis: then RDB counts as unknown (off).
    const rdb = save !== undefined && save.trim() !== '';
    // Without persistence a restart empties every queue. Blocking in production, a warning elsewhere.
    const severity: Status = config.env === 'production' ? 'fail' : 'warn';
    if (aof) {
      const fsync = await redis.config('GET', 'appendfsync').then(
        (r) => (r as string[])[1] ?? '?',
        () => '?',
      );
      rows.push({
        check: 'redis persistence',
        status: 'ok',
        detail: `AOF on (appendfsync ${fsync})${rdb ? ', RDB snapshots on' : ''}`,
      });
    } else if (rdb)
      rows.push({
        check: 'redis persistence',
        status: 'warn',
        detail: `RDB snapshots only (save "${save}"): jobs queued since the last snapshot are lost on a crash`,
        fix: 'Turn on AOF: appendonly yes (CONFIG SET appendonly yes; CONFIG REWRITE)',
      });
    else
      rows.push({
        check: 'redis persistence',
        status: severity,
        detail: 'none (no AOF, no RDB): a Redis restart loses every queued job',
        fix: 'Turn on AOF: appendonly yes, appendfsync everysec (CONFIG SET appendonly yes; CONFIG REWRITE)',
      });
    return rows;
  } catch (error) {
    return [
      {
        check: 'redis',
        status: 'fail',
        detail: `cannot reach ${label}: ${message(lastError ?? error)}`,
        fix: 'Check REDIS_URL, that Redis is running and that this host may connect (bind, protected-mode, firewall)',
      },
    ];
  } finally {
    redis.disconnect();
  }
}

async function fetchJson(
  url: string,
  init: RequestInit & { apiKey?: string },
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(init.apiKey ? { authorization: `Bearer ${init.apiKey}` } : {}),
  };
  const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the detail.
  }
  return { status: res.status, body };
}

const endpoint = (base: string, suffix: string) => `${base.replace(/\/+$/, '')}/${suffix}`;

export async function checkChatModel(config: Config): Promise<Row> {
  const { baseUrl, apiKey, model } = config.chat;
  if (!baseUrl)
    return {
      check: 'chat model',
      status: 'ok',
      detail: 'built-in offline answerer (no endpoint configured; no outbound connection)',
    };
  try {
    const { status, body } = await fetchJson(endpoint(baseUrl, 'models'), { method: 'GET', apiKey });
    if (status === 401 || status === 403)
      return {
        check: 'chat model',
        status: 'fail',
        detail: `${baseUrl} refused the API key (HTTP ${status})`,
        fix: 'Check OPENAI_API_KEY',
      };
    if (status >= 400)
      return {
        check: 'chat model',
        status: 'warn',
        detail: `${baseUrl}/models answered HTTP ${status}; cannot confirm ${model} is served`,
        fix: 'Check OPENAI_BASE_URL (it usually ends in /v1)',
      };
    const ids = ((body as { data?: { id: string }[] })?.data ?? []).map((m) => m.id);
    return ids.includes(model!)
      ? { check: 'chat model', status: 'ok', detail: `${model} served by ${baseUrl}` }
      : {
          check: 'chat model',
          status: 'warn',
          detail: `${baseUrl} is up but does not list ${model} (it lists ${ids.slice(0, 5).join(', ') || 'nothing'})`,
          fix: 'Set CHAT_MODEL to a served model, or pull it (ollama pull …)',
        };
  } catch (error) {
    return {
      check: 'chat model',
      status: 'fail',
      detail: `cannot reach ${baseUrl}: ${message(error)}`,
      fix: 'Check OPENAI_BASE_URL and that the model server runs and is reachable from this host',
    };
  }
}

export async function checkEmbeddings(
  config: Config,
  index: { model: string; dimensions: number } | undefined,
): Promise<Row> {
  const e = config.embedding;
  const indexNote = index ? `index: ${index.model}, ${index.dimensions} dimensions` : 'index not created yet';
  if (index && index.dimensions !== e.dimensions) {
    return {
      check: 'embeddings',
      status: 'fail',
      detail: `configured ${e.model} (${e.dimensions} dimensions) but the ${indexNote}`,
      fix: 'Restore EMBEDDING_MODEL/EMBEDDING_DIMENSIONS, or run `npm run reembed` to re-embed every document',
    };
  }
  if (e.offline)
    return {
      check: 'embeddings',
      status: 'ok',
      detail: `built-in offline embedder, ${e.dimensions} dimensions (${indexNote})`,
    };
  try {
    const { status, body } = await fetchJson(endpoint(e.baseUrl!, 'embeddings'), {
      method: 'POST',
      apiKey: e.apiKey,
      body: JSON.stringify({ model: e.model, input: ['enclave doctor'], encoding_format: 'float' }),
    });
    if (status >= 400) {
      return {
        check: 'embeddings',
        status: 'fail',
        detail: `${e.baseUrl}/embeddings answered HTTP ${status} for ${e.model}`,
        fix: 'Check EMBEDDING_BASE_URL, EMBEDDING_API_KEY and EMBEDDING_MODEL',
      };
    }
    const vector = (body as { data?: { embedding?: unknown }[] })?.data?.[0]?.embedding;
    if (!Array.isArray(vector)) {
      return {
        check: 'embeddings',
        status: 'fail',
        detail: `${e.baseUrl}/embeddings returned no float vector`,
        fix: 'Use an OpenAI-compatible embeddings endpoint that honours encoding_format: "float"',
      };
    }
    const expected = index?.dimensions ?? e.dimensions;
    if (vector.length !== expected) {
      return {
        check: 'embeddings',
        status: 'fail',
        detail: `${e.model} returned ${vector.length} dimensions; the ${index ? 'index column holds' : 'configuration says'} ${expected}`,
        fix: `Set EMBEDDING_DIMENSIONS=${vector.length} (on a fresh index), or choose the model the index was built with`,
      };
    }
    return {
      check: 'embeddings',
      status: 'ok',
      detail: `${e.model} at ${e.baseUrl} returns ${vector.length} dimensions (${indexNote})`,
    };
  } catch (error) {
    return {
      check: 'embeddings',
      status: 'fail',
      detail: `cannot reach ${e.baseUrl}: ${message(error)}`,
      fix: 'Check EMBEDDING_BASE_URL (or OPENAI_BASE_URL) and that the server is reachable',
    };
  }
}

export async function checkOidc(config: Config): Promise<Row | undefined> {
  if (!config.oidc) return undefined;
  const url = endpoint(config.oidc.issuer, '.well-known/openid-configuration');
  try {
    const { status, body } = await fetchJson(url, { method: 'GET' });
    if (status !== 200 || !(body as { issuer?: string })?.issuer)
      return {
        check: 'sso',
        status: 'fail',
        detail: `${url} answered HTTP ${status}`,
        fix: 'Check OIDC_ISSUER (the issuer URL, without the .well-known path)',
      };
    return { check: 'sso', status: 'ok', detail: `issuer ${(body as { issuer: string }).issuer} reachable` };
  } catch (error) {
    return {
      check: 'sso',
      status: 'fail',
      detail: `cannot reach ${url}: ${message(error)}`,
      fix: 'Check OIDC_ISSUER and that this host can reach the identity provider',
    };
  }
}

export async function checkDisk(dataDir: string): Promise<Row> {
  let dir = dataDir;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const s = await statfs(dir);
    const free = s.bavail * s.bsize;
    const total = s.blocks * s.bsize;
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
    const detail = `${gib(free)} free of ${gib(total)} under ${dataDir}${dir !== dataDir ? ` (not created yet; measured at ${dir})` : ''}`;
    if (free < 512 * 2 ** 20)
      return {
        check: 'disk space',
        status: 'fail',
        detail,
        fix: 'Free space or move DATA_DIR to a larger volume: writes to the database and stored files will fail',
      };
    if (free < 5 * 2 ** 30 || free / total < 0.1)
      return {
        check: 'disk space',
        status: 'warn',
        detail,
        fix: 'Plan more space for DATA_DIR (uploads, embedded database, backups)',
      };
    return { check: 'disk space', status: 'ok', detail };
  } catch (error) {
    return { check: 'disk space', status: 'warn', detail: `cannot measure ${dataDir}: ${message(error)}` };
  }
}

/** Bits of entropy estimated from the character classes used (an upper bound for random strings). */
export function entropyBits(secret: string): number {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/];
  const pool = [26, 26, 10, 33].reduce((sum, size, i) => sum + (classes[i]!.test(secret) ? size : 0), 0);
  const distinct = new Set(secret).size;
  // Repetition caps it: a secret of few distinct characters is weak whatever its length.
  return Math.min(secret.length * Math.log2(Math.max(pool, 2)), distinct * Math.log2(Math.max(pool, 2)) * 2);
}

const PLACEHOLDER = /change.?me|changeit|example|secret|password|default|xxxx|1234|qwerty/i;

export async function checkSecrets(config: Config): Promise<Row[]> {
  const rows: Row[] = [];
  const production = config.env === 'production';
  const s = config.sessionSecret;
  if (!s) {
    const file = path.join(config.dataDir, 'session-secret');
    const exists = await readFile(file, 'utf8').then(
      () => true,
      () => false,
    );
    rows.push({
      check: 'SESSION_SECRET',
      status: 'ok',
      detail: exists
        ? `not set: using the generated ${file} (keep it with your backups)`
        : 'not set: a random one is generated into DATA_DIR at first start',
    });
  } else {
    const bits = entropyBits(s);
    if (PLACEHOLDER.test(s)) {
      rows.push({
        check: 'SESSION_SECRET',
        status: production ? 'fail' : 'warn',
        detail: 'looks like a placeholder or a word',
        fix: 'openssl rand -base64 48',
      });
    } else if (bits < 128) {
      rows.push({
        check: 'SESSION_SECRET',
        status: 'warn',
        detail: `${s.length} characters, about ${bits.toFixed(0)} bits: weaker than 128`,
        fix: 'openssl rand -base64 48',
      });
    } else {
      rows.push({
        check: 'SESSION_SECRET',
        status: 'ok',
        detail: `${s.length} characters, about ${Math.min(bits, 999).toFixed(0)} bits`,
      });
    }
  }
  const p = config.admin.password;
  if (!p) {
    rows.push({
      check: 'ADMIN_PASSWORD',
      status: 'ok',
      detail: 'not set: the first admin gets a generated password, printed once',
    });
  } else {
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
    const weak = PLACEHOLDER.test(p) || classes < 3 || new Set(p).size < 8;
    rows.push(
      weak
        ? {
            check: 'ADMIN_PASSWORD',
            status: 'warn',
            detail: `${p.length} characters, ${classes} character class(es)${PLACEHOLDER.test(p) ? ', contains a common word' : ''}`,
            fix: 'Use 16+ random characters, and change it after the first sign-in',
          }
        : {
            check: 'ADMIN_PASSWORD',
            status: 'ok',
            detail: `${p.length} characters, ${classes} character classes (used only to create the first admin)`,
          },
    );
  }
  return rows;
}
