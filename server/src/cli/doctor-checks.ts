import { existsSync } from 'node:fs';
import { readFile, statfs } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';

/**
 * The checks behind `npm run doctor`. Each returns rows of (check, status, detail, fix); a `fail`
 * is blocking (the deployment will not work or will lose data), a `warn` is worth fixing.
 * Checks never throw: a check that cannot run reports why.
 *
 * This file holds the rows' vocabulary and the checks of the host and Redis; the database's are in
 * doctor-database-checks.ts, the model and identity providers' in doctor-endpoint-checks.ts.
 */

export type Status = 'ok' | 'warn' | 'fail';
export interface Row {
  check: string;
  status: Status;
  detail: string;
  fix?: string;
}

/** How long a check waits for a service to answer. */
export const TIMEOUT_MS = 5000;

export function withTimeout<T>(promise: Promise<T>, what: string, ms = TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** An error as one line for a row's detail (every cause of an AggregateError, the code once). */
export const message = (error: unknown): string => {
  if (error instanceof AggregateError && error.errors.length)
    return error.errors.map((e: unknown): string => message(e)).join('; ');
  const e = error as { code?: string; message?: string };
  if (e?.code && e.message?.includes(e.code)) return e.message;
  return [e?.code, e?.message].filter(Boolean).join(' ') || String(error);
};
/** A connection URL with its password hidden. */
export const redactUrl = (url: string) => url.replace(/(\/\/[^/:@]*:)[^/@]*@/, '$1***@');

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
