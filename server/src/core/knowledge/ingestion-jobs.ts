import type { JobMap } from '../jobs/job-map.ts';
import type { JobQueue } from '../jobs/job-types.ts';

/** Documents per `ingest-batch` job: a bulk import is shared among the workers, each indexing a batch in one transaction. */
export const INGEST_BATCH_DOCUMENTS = 25;

/**
 * Enqueues the indexing of documents: those of a bulk import (`batch`, from their metadata) as the
 * `ingest-batch` job of that name and version, the others one `ingest-document` job each. Job ids
 * come from names and versions, so enqueueing again — a restart resuming unfinished work while the
 * queue still holds the jobs — adds nothing under BullMQ, and a new version (a re-embed) is a new job.
 */
export async function enqueueIngestion(
  jobs: JobQueue<JobMap>,
  docs: { id: string; version: number; batch?: string | undefined }[],
): Promise<void> {
  const batches = new Map<string, { batchId: string; version: number; documentIds: string[] }>();
  for (const doc of docs) {
    if (!doc.batch) {
      await jobs.enqueue('ingest-document', { documentId: doc.id, version: doc.version });
      continue;
    }
    const key = `${doc.batch}-v${doc.version}`;
    const batch = batches.get(key) ?? { batchId: doc.batch, version: doc.version, documentIds: [] };
    batch.documentIds.push(doc.id);
    batches.set(key, batch);
  }
  for (const batch of batches.values()) await jobs.enqueue('ingest-batch', batch);
}
