import type { JobMap } from '../../../server/src/core/jobs/job-map.ts';
import { jobOptions } from '../../../server/src/core/jobs/job-map.ts';
import type { Processors } from '../../../server/src/core/jobs/job-types.ts';
import { createConfiguredIngestion } from '../../../server/src/core/knowledge/knowledge.module.ts';
import type { EmbeddingProvider } from '../../../server/src/core/llm/embedding-provider.ts';
import type { Services } from '../../../server/src/services.ts';

/**
 * `ingest-document`: parse → split → embed → index one version of a document; `ingest-batch`: the
 * same for the small documents of a bulk import, together. One pipeline (and embedder) for both.
 */
export function ingestProcessors(
  services: Pick<Services, 'config' | 'db' | 'bus' | 'logger'>,
  overrides: { embedder?: EmbeddingProvider } = {},
): Pick<Processors<JobMap>, 'ingest-document' | 'ingest-batch'> {
  const ingestion = createConfiguredIngestion(services, overrides);
  return {
    'ingest-document': async ({ documentId, version }, context) => {
      await ingestion.process(documentId, version, { number: context.attempt, max: jobOptions['ingest-document'].attempts });
    },
    'ingest-batch': async ({ version, documentIds }, context) => {
      await ingestion.processBatch(documentIds, version, { number: context.attempt, max: jobOptions['ingest-batch'].attempts });
    },
  };
}
