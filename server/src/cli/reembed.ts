import { compose } from '../composition.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { resolveSessionSecret } from '../core/crypto/secret.ts';
import { connectDatabase } from '../core/db/connect.ts';
import { storedEmbeddingSpace, switchEmbeddingSpace } from '../core/db/embedding-space.ts';
import { migrate } from '../core/db/migrator.ts';
import { jobOptions } from '../core/jobs/job-map.ts';
import { addToOutbox } from '../core/jobs/outbox.ts';
import { createDocumentRepository, requeueAllDocuments } from '../core/knowledge/document.repository.ts';
import { ingestionJobs } from '../core/knowledge/ingestion-jobs.ts';
import { createLogger } from '../core/logger.ts';

/**
 * `npm run reembed`: adopts the configured embedding model (EMBEDDING_MODEL/EMBEDDING_DIMENSIONS)
 * for the whole index. The vector column is retyped (every stored vector cleared; full-text search
 * keeps working meanwhile) and every document is queued for ingestion again, its job written to the
 * outbox in the same transaction. With REDIS_URL the running workers do the work (the outbox reaches
 * them even if Redis is away right now); without, this command processes the queue itself and waits.
 */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { role: 'reembed' });
  const target = { model: config.embedding.model, dimensions: config.embedding.dimensions };
  const db = await connectDatabase(config);
  let requeued: number;
  try {
    await migrate(db);
    const from = await storedEmbeddingSpace(db);
    process.stdout.write(
      `Re-embedding with "${target.model}" (${target.dimensions} dimensions)${from ? `, replacing "${from.model}" (${from.dimensions})` : ''}.\n`,
    );
    await switchEmbeddingSpace(db, target);
    requeued = await db.transaction(async (tx) => {
      const count = await requeueAllDocuments(tx);
      const pending = await createDocumentRepository(tx).pending();
      await addToOutbox(
        tx,
        jobOptions,
        ingestionJobs(pending.map((d) => ({ id: d.id, version: d.version, batch: d.batch ?? undefined }))),
      );
      return count;
    });
  } catch (error) {
    await db.close();
    throw error;
  }
  const secret = await resolveSessionSecret(config.sessionSecret, config.dataDir);
  const composition = await compose(config, logger, { secret, db });
  const { services } = composition;
  try {
    process.stdout.write(`${requeued} document(s) queued for ingestion.\n`);
    if (services.jobs.kind === 'bullmq') {
      // Handed to Redis now if it answers; otherwise the workers' relays do it when it is back.
      await services.outbox.drain().catch(() => {});
      process.stdout.write('The workers (`npm run worker`) re-embed them; progress shows in the admin console.\n');
      return;
    }
    await services.jobs.startProcessing();
    const started = Date.now();
    for (;;) {
      const { pending, failed } = await createDocumentRepository(services.db).statusCounts();
      process.stdout.write(`\r${requeued - pending}/${requeued} done${failed ? `, ${failed} failed` : ''}   `);
      if (pending === 0) {
        process.stdout.write(`\nFinished in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
        if (failed) process.exitCode = 1;
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await composition.close(config.shutdownTimeoutMs);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    error instanceof ConfigError
      ? `${error.message}\n`
      : `Re-embedding failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
