import { ConfigError, loadConfig, type Config } from '../config.ts';
import { checkDisk, checkNode, checkRedis, checkSecrets, type Row } from './doctor-checks.ts';
import {
  checkClock,
  checkMigrations,
  checkOutbox,
  checkPgvector,
  indexSpace,
  openDatabase,
} from './doctor-database-checks.ts';
import { checkChatModel, checkEmbeddings, checkOidc, checkReranker } from './doctor-endpoint-checks.ts';
import { checkOcr } from './doctor-ocr-check.ts';

/**
 * `npm run doctor` — the assessment step before and after a deployment: versions, extensions,
 * connectivity, persistence, model endpoints, disk, secrets and clocks, as a table with a fix for
 * each row that needs one. Exits 1 when a row fails (the deployment would not work or would lose
 * data), 0 otherwise (warnings included). `--json` prints the rows as JSON instead.
 *
 * It reads the same environment as the server. On the embedded database, stop Enclave first: the
 * embedded database is single-process.
 */

export async function diagnose(config: Config): Promise<Row[]> {
  const rows: Row[] = [checkNode()];
  const opened = await openDatabase(config);
  rows.push(opened.row);
  let index: { model: string; dimensions: number } | undefined;
  if (opened.db) {
    try {
      rows.push(...(await checkPgvector(opened.db)));
      rows.push(await checkMigrations(opened.db));
      rows.push(await checkClock(opened.db));
      rows.push(await checkOutbox(opened.db));
      index = await indexSpace(opened.db).catch(() => undefined);
    } finally {
      await opened.db.close().catch(() => {});
    }
  } else {
    rows.push({
      check: 'pgvector',
      status: 'fail',
      detail: 'not checked: no database connection',
      fix: 'Fix the database row first',
    });
    rows.push({ check: 'clock skew', status: 'warn', detail: 'not checked: no database connection' });
    rows.push({ check: 'outbox', status: 'warn', detail: 'not checked: no database connection' });
  }
  const [redis, chat, embeddings, reranker, oidc, disk, secrets, ocr] = await Promise.all([
    checkRedis(config),
    checkChatModel(config),
    checkEmbeddings(config, index),
    checkReranker(config),
    checkOidc(config),
    checkDisk(config.dataDir),
    checkSecrets(config),
    checkOcr(config),
  ]);
  rows.push(...redis, chat, embeddings, reranker, ...(oidc ? [oidc] : []), disk, ...secrets, ocr);
  return rows;
}

const MARK = { ok: 'ok', warn: 'WARN', fail: 'FAIL' } as const;

export function formatTable(rows: Row[]): string {
  const header = ['check', 'status', 'detail', 'fix'];
  const cells = rows.map((r) => [r.check, MARK[r.status], r.detail, r.fix ?? '']);
  const widths = header.slice(0, 3).map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w)).concat('---')), ...cells.map(line)].join('\n');
}

async function main() {
  const json = process.argv.includes('--json');
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const rows: Row[] = [
      checkNode(),
      ...error.issues.map((issue) => ({
        check: 'configuration',
        status: 'fail' as const,
        detail: issue,
        fix: 'Fix the variable (see .env.example)',
      })),
    ];
    process.stdout.write(
      json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatTable(rows)}\n\nBlocking: the configuration is invalid.\n`,
    );
    process.exit(1);
  }
  const rows = await diagnose(config);
  const failed = rows.filter((r) => r.status === 'fail');
  const warned = rows.filter((r) => r.status === 'warn');
  if (json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  else {
    process.stdout.write(`${formatTable(rows)}\n\n`);
    process.stdout.write(
      failed.length
        ? `${failed.length} blocking problem(s): ${failed.map((r) => r.check).join(', ')}.${warned.length ? ` ${warned.length} warning(s).` : ''}\n`
        : `No blocking problem${warned.length ? `; ${warned.length} warning(s): ${warned.map((r) => r.check).join(', ')}` : 's'}.\n`,
    );
  }
  process.exit(failed.length ? 1 : 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`Doctor failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  });
}
