import { ConfigError, loadConfig } from '../config.ts';
import { verifyAuditChain } from '../core/audit/audit.service.ts';
import { connectDatabase } from '../core/db/connect.ts';

/** `npm run audit:verify`: walks the audit hash chain; exit 0 when intact, 1 when a record was edited or removed. */
async function main() {
  const config = loadConfig();
  const db = await connectDatabase(config);
  try {
    const result = await verifyAuditChain(db);
    if (result.ok) {
      process.stdout.write(`Audit log intact: ${result.rows} record(s) verified.\n`);
    } else {
      process.stdout.write(
        `Audit log TAMPERED: record ${result.brokenAtId} ${result.reason} (${result.rows} record(s) checked up to it).\n`,
      );
      process.exitCode = 1;
    }
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : `Verification failed: ${String(error instanceof Error ? error.message : error)}`}\n`,
  );
  process.exit(2);
});
