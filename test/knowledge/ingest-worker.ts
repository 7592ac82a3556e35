import { loadConfig } from '../../server/src/config.ts';
import { connectDatabase } from '../../server/src/core/db/connect.ts';
import { createBullmqRunner } from '../../server/src/core/jobs/bullmq-runner.ts';
import { jobOptions, type JobMap } from '../../server/src/core/jobs/job-map.ts';
import { ingestJobs } from '../../server/src/core/knowledge/ingest.job.ts';
import { createOwnEndpoints } from '../../server/src/core/knowledge/import-address-policy.ts';
import { createConfiguredKnowledgeJobs } from '../../server/src/core/knowledge/knowledge.module.ts';
import { createParserPool } from '../../server/src/core/knowledge/parsing/parser-pool.ts';
import { createOfflineEmbedder } from '../../server/src/core/llm/offline-embedder.ts';
import type { EmbeddingProvider } from '../../server/src/core/llm/embedding-provider.ts';
import { createLogger } from '../../server/src/core/logger.ts';
import { createMemoryBus } from '../../server/src/core/realtime/bus.ts';
import { createFileStorage } from '../../server/src/core/storage/stored-files.ts';

/**
 * A real BullMQ worker process running the real ingest processor, with a short lock (so a killed
 * worker's job is taken over within seconds) and an embedder slowed by SLOW_EMBED_MS per batch of
 * four (so the test can kill it mid-ingest). Prints "batch N" after each embedded batch.
 */
const config = loadConfig();
const db = await connectDatabase(config);
const logger = createLogger(config.logLevel);
const offline = createOfflineEmbedder({ model: config.embedding.model, dimensions: config.embedding.dimensions });
const delay = Number(process.env.SLOW_EMBED_MS ?? '0');
let batches = 0;
const embedder: EmbeddingProvider = {
  model: offline.model,
  dimensions: offline.dimensions,
  batchSize: 4,
  async embed(texts, kind) {
    await new Promise((r) => setTimeout(r, delay));
    const out = await offline.embed(texts, kind);
    process.stdout.write(`batch ${++batches}\n`);
    return out;
  },
};
// Only the ingest queue: this process is a knowledge worker and nothing else.
type IngestJobs = Pick<JobMap, 'ingest-document' | 'ingest-batch'>;
const runner = createBullmqRunner<IngestJobs>({
  redisUrl: config.redisUrl!,
  prefix: config.redisPrefix,
  jobs: { 'ingest-document': jobOptions['ingest-document'], 'ingest-batch': jobOptions['ingest-batch'] },
  processors: ingestJobs({
    ingestion: createConfiguredKnowledgeJobs({
      config,
      db,
      logger,
      bus: createMemoryBus(),
      storage: createFileStorage(config),
      embedder,
      parser: createParserPool(),
      own: createOwnEndpoints(config),
      // Indexing writes no further jobs: only refreshes do, which this worker does not run.
      outbox: { add: async () => {}, dispatch: () => {} },
    }).ingestion,
  }),
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
});
await runner.startProcessing();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void runner
    .close(1000)
    .then(() => db.close())
    .then(() => process.exit(0));
});
