import path from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { createBackup } from '../core/backup/backup.service.ts';
import { connectDatabase } from '../core/db/connect.ts';

/**
 * `npm run backup [-- <archive.tar.gz>]`: one archive with the database (every table, vectors
 * included), the stored files and a manifest. Default name: enclave-backup-<UTC time>.tar.gz in the
 * current directory. On the embedded database, stop Enclave first (it is single-process); on
 * Postgres, run it any time: the dump is a consistent snapshot.
 */
async function main() {
  const config = loadConfig();
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const archive = path.resolve(
    process.argv.slice(2).find((a) => !a.startsWith('-')) ?? `enclave-backup-${stamp}.tar.gz`,
  );
  const db = await connectDatabase(config);
  try {
    const result = await createBackup(db, { dataDir: config.dataDir, archive });
    const rows = result.manifest.tables.reduce((n, t) => n + t.rows, 0);
    process.stdout.write(
      `Backup written: ${archive}\n` +
        `  ${(result.bytes / 1024).toFixed(1)} KiB, ${rows} rows in ${result.manifest.tables.length} tables, ${result.manifest.files.length} stored file(s), ` +
        `schema version ${result.manifest.migrations.at(-1)?.version ?? 0}, in ${(result.ms / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : `Backup failed: ${error instanceof Error ? error.message : String(error)}`}\n`,
  );
  process.exit(1);
});
