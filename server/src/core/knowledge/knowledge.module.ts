import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { JobQueue } from '../jobs/job-types.ts';
import type { EmbeddingProvider } from '../llm/embedding-provider.ts';
import type { Logger } from '../logger.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { createDocumentRepository } from './document.repository.ts';
import { createImportAddressPolicy, type OwnEndpoints } from './import-address-policy.ts';
import { createIngestionService, type IngestionService } from './ingest.service.ts';
import { enqueueIngestion } from './ingestion-jobs.ts';
import type { ParserPool } from './parsing/parser-pool.ts';

/** The ingestion pipeline, its limits from configuration, over the process's one storage, embedder and parser pool. */
export function createConfiguredIngestion(deps: {
  config: Pick<Config, 'knowledge'>;
  db: Database;
  bus: Pick<RealtimeBus, 'publish'>;
  logger: Logger;
  storage: BlobStorage;
  embedder: EmbeddingProvider;
  parser: Pick<ParserPool, 'parse'>;
  own: OwnEndpoints;
}): IngestionService {
  const { config, own, ...rest } = deps;
  return createIngestionService({
    ...rest,
    limits: {
      maxBytes: config.knowledge.maxUploadBytes,
      fetchTimeoutMs: config.knowledge.fetchTimeoutMs,
      addresses: createImportAddressPolicy({ allowPrivate: config.knowledge.allowPrivate, own }),
    },
  });
}

/**
 * Re-enqueues every document whose ingestion had not finished (a bulk import's as its batches). The
 * in-process runner keeps jobs in memory, so after a crash or restart this is what resumes them;
 * under BullMQ the job ids make it a no-op for jobs Redis still holds. Call after `compose`.
 */
export async function resumePendingIngestion(db: Database, jobs: JobQueue<JobMap>, logger?: Logger): Promise<number> {
  const pending = await createDocumentRepository(db).pending();
  await enqueueIngestion(
    jobs,
    pending.map((d) => ({ id: d.id, version: d.version, batch: d.batch ?? undefined })),
  );
  if (pending.length) logger?.info({ documents: pending.length }, 'unfinished ingestion re-queued');
  return pending.length;
}
