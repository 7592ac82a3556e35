import path from 'node:path';
import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { JobQueue } from '../jobs/job-types.ts';
import { createEmbedder } from '../llm/create-embedder.ts';
import type { EmbeddingProvider } from '../llm/embedding-provider.ts';
import type { Logger } from '../logger.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { createLocalDiskStorage } from '../storage/local-disk-storage.ts';
import { createDocumentRepository } from './document.repository.ts';
import { createIngestionService, type IngestionService } from './ingest.service.ts';
import { enqueueIngestion } from './ingestion-jobs.ts';
import { createParserPool, type ParserPool } from './parsing/parser-pool.ts';

/** Original files live under DATA_DIR/files (shared by server and worker processes). */
export function createFileStorage(config: Pick<Config, 'dataDir'>): BlobStorage {
  return createLocalDiskStorage(path.join(config.dataDir, 'files'));
}

let sharedPool: ParserPool | undefined;
/** One parser pool per process; its threads are unref'd while idle, so it never holds the process open. */
export function parserPool(): ParserPool {
  sharedPool ??= createParserPool();
  return sharedPool;
}

/** The ingestion pipeline wired from configuration (the processor builds one per process). */
export function createConfiguredIngestion(
  deps: { config: Config; db: Database; bus: Pick<RealtimeBus, 'publish'>; logger: Logger },
  overrides: { embedder?: EmbeddingProvider; storage?: BlobStorage } = {},
): IngestionService {
  return createIngestionService({
    db: deps.db,
    bus: deps.bus,
    logger: deps.logger,
    storage: overrides.storage ?? createFileStorage(deps.config),
    embedder: overrides.embedder ?? createEmbedder(deps.config),
    parser: parserPool(),
    limits: { maxBytes: deps.config.knowledge.maxUploadBytes, fetchTimeoutMs: deps.config.knowledge.fetchTimeoutMs },
  });
}

/**
 * Re-enqueues every document whose ingestion had not finished (a bulk import's as its batches). The
 * in-process runner keeps jobs in memory, so after a crash or restart this is what resumes them;
 * under BullMQ the job ids make it a no-op for jobs Redis still holds. Call after `openServices`.
 */
export async function resumePendingIngestion(db: Database, jobs: JobQueue<JobMap>, logger?: Logger): Promise<number> {
  const pending = await createDocumentRepository(db).pending();
  await enqueueIngestion(jobs, pending.map((d) => ({ id: d.id, version: d.version, batch: d.batch ?? undefined })));
  if (pending.length) logger?.info({ documents: pending.length }, 'unfinished ingestion re-queued');
  return pending.length;
}
