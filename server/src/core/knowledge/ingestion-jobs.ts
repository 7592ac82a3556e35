import type { JobMap } from '../jobs/job-map.ts';
import type { JobQueue } from '../jobs/job-types.ts';
import { enqueueJob, type OutboxJob } from '../jobs/outbox.ts';

/** Documents per `ingest-batch` job: a bulk import is shared among the workers, each indexing a batch in one transaction. */
export const INGEST_BATCH_DOCUMENTS = 25;

/**
 * The jobs that index documents: those of a bulk import (`batch`, from their metadata) as the
 * `ingest-batch` job of that name and version, the others one `ingest-document` job each. Job ids
 * come from names and versions, so queueing again — a restart resuming unfinished work while the
 * queue still holds the jobs, a relay dispatching an outbox row twice — adds nothing, and a new
 * version (a re-index, a re-embed) is a new job.
 */
export function ingestionJobs(
  docs: { id: string; version: number; batch?: string | undefined }[],
): OutboxJob<JobMap>[] {
  const singles: OutboxJob<JobMap>[] = [];
  const batches = new Map<string, { batchId: string; version: number; documentIds: string[] }>();
  for (const doc of docs) {
    if (!doc.batch) {
      singles.push({ name: 'ingest-document', payload: { documentId: doc.id, version: doc.version } });
      continue;
    }
    const key = `${doc.batch}-v${doc.version}`;
    const batch = batches.get(key) ?? { batchId: doc.batch, version: doc.version, documentIds: [] };
    batch.documentIds.push(doc.id);
    batches.set(key, batch);
  }
  return [...singles, ...[...batches.values()].map((payload) => ({ name: 'ingest-batch' as const, payload }))];
}

/** Enqueues `ingestionJobs(docs)` straight to the runner (a process resuming unfinished work at start). */
export async function enqueueIngestion(
  jobs: JobQueue<JobMap>,
  docs: { id: string; version: number; batch?: string | undefined }[],
): Promise<void> {
  for (const job of ingestionJobs(docs)) await enqueueJob(jobs, job);
}
