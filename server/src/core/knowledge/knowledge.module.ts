import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { JobQueue } from '../jobs/job-types.ts';
import type { EmbeddingProvider } from '../llm/embedding-provider.ts';
import type { Logger } from '../logger.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import type { Outbox } from '../jobs/outbox.ts';
import { createDocumentRepository, type DocumentRow } from './document.repository.ts';
import { createImportAddressPolicy, type OwnEndpoints } from './import-address-policy.ts';
import { createIngestionService, type IngestionService } from './ingest.service.ts';
import { enqueueIngestion } from './ingestion-jobs.ts';
import { presentDocument } from './knowledge.presenter.ts';
import type { ParserPool } from './parsing/parser-pool.ts';
import type { Connector } from './sources/connector.ts';
import { allowedFolder, folderConnector } from './sources/folder-connector.ts';
import { createRefreshService, type RefreshService } from './sources/refresh.service.ts';
import type { SourceRow } from './sources/source.repository.ts';
import { siteConnector, urlConnector } from './sources/web-connectors.ts';
import type { CrawlSettings } from './site-crawl.ts';

/**
 * The ingestion pipeline and source refresh, their limits from configuration, over the process's
 * one storage, embedder and parser pool. Both fetch under the same URL-import rules (one address policy).
 */
export function createConfiguredKnowledgeJobs(deps: {
  config: Pick<Config, 'knowledge'>;
  db: Database;
  bus: Pick<RealtimeBus, 'publish'>;
  logger: Logger;
  storage: BlobStorage;
  embedder: EmbeddingProvider;
  parser: Pick<ParserPool, 'parse'>;
  own: OwnEndpoints;
  outbox: Outbox<JobMap>;
}): { ingestion: IngestionService; refresh: RefreshService } {
  const { config, own, outbox, ...rest } = deps;
  const limits = {
    maxBytes: config.knowledge.maxUploadBytes,
    fetchTimeoutMs: config.knowledge.fetchTimeoutMs,
    addresses: createImportAddressPolicy({ allowPrivate: config.knowledge.allowPrivate, own }),
  };
  const fetchLimits = { timeoutMs: limits.fetchTimeoutMs, maxBytes: limits.maxBytes, addresses: limits.addresses };
  const ingestion = createIngestionService({ ...rest, limits });
  async function connectorFor(source: SourceRow): Promise<Connector> {
    if (source.kind === 'url') return urlConnector(source.location, fetchLimits);
    if (source.kind === 'site')
      return siteConnector(source.location, source.settings as unknown as CrawlSettings, fetchLimits);
    // Checked again at every run: the allow-list may have changed since the folder was added.
    return folderConnector(await allowedFolder(source.location, config.knowledge.syncAllowedRoots), limits);
  }
  const refresh = createRefreshService({
    db: deps.db,
    storage: deps.storage,
    outbox,
    connectorFor,
    logger: deps.logger.child({ component: 'refresh' }),
    publish: async (doc: DocumentRow) => {
      await deps.bus.publish({ type: 'document.updated', document: presentDocument(doc) }).catch(() => {});
    },
  });
  return { ingestion, refresh };
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
