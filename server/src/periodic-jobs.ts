import type { JobMap } from './core/jobs/job-map.ts';
import type { JobQueue } from './core/jobs/job-types.ts';
import type { Logger } from './core/logger.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Enqueues housekeeping once per hour. Job ids carry the hour, so however many server processes
 * run this, each hour's job exists once.
 */
export function schedulePeriodicJobs(jobs: JobQueue<JobMap>, logger: Logger): () => void {
  const tick = () => {
    const period = Math.floor(Date.now() / HOUR_MS);
    const warn = (error: unknown) => logger.warn({ err: error }, 'could not enqueue housekeeping');
    jobs.enqueue('purge-sessions', { period }).catch(warn);
    jobs.enqueue('prune-audit', { period: Math.floor(Date.now() / DAY_MS) }).catch(warn);
    jobs.enqueue('retention', { period: Math.floor(Date.now() / DAY_MS) }).catch(warn);
  };
  tick();
  const timer = setInterval(tick, HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}
