import type { Database } from '../db/database.ts';
import type { JobMap, JobName } from '../jobs/job-map.ts';
import type { JobRunner } from '../jobs/job-types.ts';
import { ENCLAVE_VERSION } from '../version.ts';
import type { Metrics } from './metrics.ts';
import { createScrapeTimeRepository } from './scrape-time.repository.ts';

const TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Refreshes the gauges that are read from shared state (Redis queues, the database) right before
 * a scrape. A source that fails or is slow leaves its gauges at their last value and counts an
 * error, so /metrics still answers when the database is down.
 */
export async function collectScrapeTimeMetrics(
  metrics: Metrics,
  sources: { db: Database; jobs: Pick<JobRunner<JobMap>, 'counts'>; jobNames: JobName[] },
): Promise<void> {
  metrics.buildInfo.set({ version: ENCLAVE_VERSION, node: process.version }, 1);
  const queues = Promise.all(
    sources.jobNames.map(async (name) => {
      const counts = await withTimeout(sources.jobs.counts(name));
      for (const [state, value] of Object.entries(counts)) metrics.queueDepth.set({ name, state }, value);
    }),
  ).catch(() => metrics.scrapeErrors.inc({ source: 'queue' }));
  const database = withTimeout(createScrapeTimeRepository(sources.db).backlog())
    .then((b) => {
      metrics.ingestionPending.set({ status: 'queued' }, b.queued);
      metrics.ingestionPending.set({ status: 'processing' }, b.processing);
      metrics.ingestionLag.set(b.ingestionLagSeconds);
      metrics.outboxPending.set(b.outboxPending);
      metrics.handoffWaiting.set(b.handoffWaiting);
      metrics.handoffWait.set(b.handoffOldestWaitSeconds);
    })
    .catch(() => metrics.scrapeErrors.inc({ source: 'database' }));
  await Promise.all([queues, database]);
}
