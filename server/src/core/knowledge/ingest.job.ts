import { jobOptions, type JobMap } from '../jobs/job-map.ts';
import type { Processors } from '../jobs/job-types.ts';
import type { IngestionService } from './ingest.service.ts';

/**
 * `ingest-document`: parse → split → embed → index one version of a document; `ingest-batch`: the
 * same for the small documents of a bulk import, together. One pipeline (and embedder) for both;
 * ingestion-jobs.ts enqueues them.
 */
export function ingestJobs({
  ingestion,
}: {
  ingestion: Pick<IngestionService, 'process' | 'processBatch'>;
}): Pick<Processors<JobMap>, 'ingest-document' | 'ingest-batch'> {
  return {
    'ingest-document': async ({ documentId, version }, context) => {
      const attempt = { number: context.attempt, max: jobOptions['ingest-document'].attempts };
      await ingestion.process(documentId, version, attempt);
    },
    'ingest-batch': async ({ version, documentIds }, context) => {
      const attempt = { number: context.attempt, max: jobOptions['ingest-batch'].attempts };
      await ingestion.processBatch(documentIds, version, attempt);
    },
  };
}
