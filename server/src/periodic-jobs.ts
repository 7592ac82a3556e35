import type { JobMap } from './core/jobs/job-map.ts';
import type { JobQueue } from './core/jobs/job-types.ts';
import type { Logger } from './core/logger.ts';

const HOUR_MS = 3_600_000;

/**
 * Enqueues housekeeping once per hour. Job ids carry the hour, so however many server processes
 * run this, each hour's job exists once.
 */
export function schedulePeriodicJobs(jobs: JobQueue<JobMap>, logger: Logger): () => void {
  const tick = () => {
    const period = Math.floor(Date.now() / HOUR_MS);
    jobs.enqueue('purge-sessions', { period }).catch((error) => logger.warn({ err: error }, 'could not enqueue housekeeping'));
  };
  tick();
  const timer = setInterval(tick, HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}
