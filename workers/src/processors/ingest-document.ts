import type { JobMap } from '../../../server/src/core/jobs/job-map.ts';
import { jobOptions } from '../../../server/src/core/jobs/job-map.ts';
import type { Processor } from '../../../server/src/core/jobs/job-types.ts';
import { createConfiguredIngestion } from '../../../server/src/core/knowledge/knowledge.module.ts';
import type { EmbeddingProvider } from '../../../server/src/core/llm/embedding-provider.ts';
import type { Services } from '../../../server/src/services.ts';

/** `ingest-document`: parse → split → embed → index one version of a document. */
export function ingestDocument(
  services: Pick<Services, 'config' | 'db' | 'bus' | 'logger'>,
  overrides: { embedder?: EmbeddingProvider } = {},
): Processor<JobMap['ingest-document']> {
  const ingestion = createConfiguredIngestion(services, overrides);
  const max = jobOptions['ingest-document'].attempts;
  return async ({ documentId, version }, context) => {
    await ingestion.process(documentId, version, { number: context.attempt, max });
  };
}
