import { mkdir } from 'node:fs/promises';
import type { Config } from './config.ts';
import { connectDatabase } from './core/db/connect.ts';
import type { Database } from './core/db/database.ts';
import { ensureEmbeddingSpace } from './core/db/embedding-space.ts';
import { migrate } from './core/db/migrator.ts';
import { createJobRunner } from './core/jobs/create-runner.ts';
import { jobOptionsFor, type JobMap } from './core/jobs/job-map.ts';
import type { JobRunner, Processors } from './core/jobs/job-types.ts';
import { loadPrompts, type PromptSet } from './core/bots/prompts.ts';
import type { Logger } from './core/logger.ts';
import { createMetrics, type Metrics } from './core/metrics/metrics.ts';
import { createMemoryBus, createRedisBus, type RealtimeBus } from './core/realtime/bus.ts';

/** Everything with a connection or a lifetime, opened once per process and closed in reverse order. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  jobs: JobRunner<JobMap>;
  bus: RealtimeBus;
  metrics: Metrics;
  /** SESSION_SECRET or the generated one: keys token hashes. */
  secret: string;
  /** Prompt templates from prompts/, read once at start. */
  prompts: PromptSet;
}

/** Processors are passed in (they live in workers/, which core never imports). */
export async function openServices(
  config: Config,
  logger: Logger,
  processors: (services: Omit<Services, 'jobs'>) => Processors<JobMap>,
  options: { secret: string; db?: Database },
): Promise<Services> {
  await mkdir(config.dataDir, { recursive: true });
  const db = options.db ?? (await connectDatabase(config));
  try {
    const report = await migrate(db);
    if (report.applied.length) logger.info({ applied: report.applied }, 'migrations applied');
    await ensureEmbeddingSpace(db, { model: config.embedding.model, dimensions: config.embedding.dimensions });
    const metrics = createMetrics();
    const bus = config.redisUrl ? await createRedisBus(config.redisUrl, `${config.redisPrefix}:events`) : createMemoryBus();
    const base = { config, logger, db, bus, metrics, secret: options.secret, prompts: await loadPrompts() };
    const jobs = createJobRunner<JobMap>({
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      jobs: jobOptionsFor(config),
      processors: processors(base),
      onEvent: (event) => {
        if (event.state === 'active') return;
        metrics.jobs.inc({ name: event.name, outcome: event.state });
        if (event.durationMs !== undefined) metrics.jobDuration.observe({ name: event.name }, event.durationMs / 1000);
        const log = logger.child({ job: event.name, jobId: event.jobId, attempt: event.attempt });
        if (event.state === 'failed') log.error({ error: event.error }, 'job failed');
        else if (event.state === 'retrying') log.warn({ error: event.error }, 'job will be retried');
      },
    });
    return { ...base, jobs };
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Workers first (they may still write), then the bus, then the database. */
export async function closeServices(services: Services, deadlineMs: number): Promise<void> {
  await services.jobs.close(deadlineMs);
  await services.bus.close();
  await services.db.close();
}
