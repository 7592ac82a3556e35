import path from 'node:path';
import { ConfigError, loadConfig } from '../config.ts';
import { RestoreError, restoreBackup } from '../core/backup/backup.service.ts';
import { connectDatabase } from '../core/db/connect.ts';

/**
 * `npm run restore -- <archive.tar.gz> [--force]`: loads a backup into this deployment's database
 * and DATA_DIR. Checksums are verified first. An empty deployment is required (a fresh database
 * and DATA_DIR) unless --force, which replaces everything in it. Stop every server and worker first.
 */
async function main() {
  const args = process.argv.slice(2);
  const archive = args.find((a) => !a.startsWith('-'));
  if (!archive) {
    process.stderr.write('Usage: npm run restore -- <archive.tar.gz> [--force]\n');
    process.exit(2);
  }
  const config = loadConfig();
  const db = await connectDatabase(config);
  try {
    const result = await restoreBackup(db, {
      dataDir: config.dataDir,
      archive: path.resolve(archive),
      force: args.includes('--force'),
    });
    process.stdout.write(
      `Restored ${path.basename(archive)} (made ${result.manifest.createdAt} by Enclave ${result.manifest.enclaveVersion} on ${result.manifest.source.database}):\n` +
        `  ${result.rows} rows in ${result.manifest.tables.length} tables, ${result.files} stored file(s), checksums verified, in ${(result.ms / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  const text =
    error instanceof ConfigError || error instanceof RestoreError
      ? error.message
      : `Restore failed: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`${text}\n`);
  process.exit(1);
});
