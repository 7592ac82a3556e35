import { mkdir } from 'node:fs/promises';
import type { Config } from './config.ts';
import { connectDatabase } from './core/db/connect.ts';
import type { Database } from './core/db/database.ts';
import { ensureEmbeddingSpace } from './core/db/embedding-space.ts';
import { migrate } from './core/db/migrator.ts';
import { createJobRunner } from './core/jobs/create-runner.ts';
import { jobOptionsFor, type JobMap } from './core/jobs/job-map.ts';
import type { JobEvent, JobRunner, Processors } from './core/jobs/job-types.ts';
import type { OutboxRelay } from './core/jobs/outbox.ts';
import { loadPrompts, type PromptSet } from './core/bots/prompts.ts';
import type { Logger } from './core/logger.ts';
import { createMetrics, type Metrics } from './core/metrics/metrics.ts';
import { createMemoryBus, createRedisBus, type RealtimeBus } from './core/realtime/bus.ts';

/** Everything with a connection or a lifetime but the job runner, opened once per process. */
export interface Infrastructure {
  config: Config;
  logger: Logger;
  db: Database;
  bus: RealtimeBus;
  metrics: Metrics;
  /** SESSION_SECRET or the generated one: keys token hashes. */
  secret: string;
  /** Prompt templates from prompts/, read once at start. */
  prompts: PromptSet;
}

/** The infrastructure with the job runner, which is built last (its processors need the domain; see composition.ts). */
export interface Services extends Infrastructure {
  jobs: JobRunner<JobMap>;
  /** Jobs written with the change they follow, dispatched to `jobs` by the relay (started by the composition). */
  outbox: OutboxRelay<JobMap>;
}

/** Connects the database (migrated, embedding space checked) and the realtime bus. */
export async function openInfrastructure(
  config: Config,
  logger: Logger,
  options: { secret: string; db?: Database },
): Promise<Infrastructure> {
  await mkdir(config.dataDir, { recursive: true });
  const db = options.db ?? (await connectDatabase(config));
  try {
    const report = await migrate(db);
    if (report.applied.length) logger.info({ applied: report.applied }, 'migrations applied');
    await ensureEmbeddingSpace(db, { model: config.embedding.model, dimensions: config.embedding.dimensions });
    const prompts = await loadPrompts();
    const bus = config.redisUrl
      ? await createRedisBus(config.redisUrl, `${config.redisPrefix}:events`)
      : createMemoryBus();
    return { config, logger, db, bus, metrics: createMetrics(), secret: options.secret, prompts };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/**
 * The job runner (BullMQ with REDIS_URL, else in-process) over these processors, its outcomes
 * counted and logged, and told to `onEvent` (the outbox learns which jobs have run).
 */
export function createJobs(
  { config, logger, metrics }: Pick<Infrastructure, 'config' | 'logger' | 'metrics'>,
  processors: Processors<JobMap>,
  onEvent?: (event: JobEvent) => void,
): JobRunner<JobMap> {
  return createJobRunner<JobMap>({
    redisUrl: config.redisUrl,
    prefix: config.redisPrefix,
    jobs: jobOptionsFor(config),
    processors,
    onEvent: (event) => {
      onEvent?.(event);
      if (event.state === 'active') return;
      metrics.jobs.inc({ name: event.name, outcome: event.state });
      if (event.durationMs !== undefined) metrics.jobDuration.observe({ name: event.name }, event.durationMs / 1000);
      const log = logger.child({ job: event.name, jobId: event.jobId, attempt: event.attempt });
      if (event.state === 'failed') log.error({ error: event.error }, 'job failed');
      else if (event.state === 'retrying') log.warn({ error: event.error }, 'job will be retried');
    },
  });
}

/** The bus, then the database (the job runner is closed before, by the composition). */
export async function closeInfrastructure(infrastructure: Pick<Infrastructure, 'bus' | 'db'>): Promise<void> {
  await infrastructure.bus.close();
  await infrastructure.db.close();
}
