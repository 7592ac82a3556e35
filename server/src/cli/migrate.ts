import { ConfigError, loadConfig } from '../config.ts';
import { connectDatabase } from '../core/db/connect.ts';
import { migrate } from '../core/db/migrator.ts';

/** `npm run migrate`: applies pending migrations and exits (the one-shot migration service in compose). */
async function main() {
  const config = loadConfig();
  const db = await connectDatabase(config);
  try {
    const report = await migrate(db);
    process.stdout.write(
      report.applied.length
        ? `Applied ${report.applied.length} migration(s): ${report.applied.join(', ')}\n`
        : `Database is up to date (${report.alreadyApplied} migration(s) applied earlier).\n`,
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : `Migration failed: ${String(error instanceof Error ? error.message : error)}`}\n`,
  );
  process.exit(1);
});
