import type { Database } from '../db/database.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { Processor } from '../jobs/job-types.ts';
import type { Logger } from '../logger.ts';
import { createLoginThrottleRepository } from './login-throttle.repository.ts';
import { createSessionRepository } from './session.repository.ts';

// Keep revoked/expired rows a week so "why was I signed out?" can still be answered.
const GRACE_DAYS = 7;

/** `purge-sessions`: stale sessions and idle sign-in counters go. */
export function purgeSessionsJob({
  db,
  logger,
}: {
  db: Database;
  logger: Logger;
}): Processor<JobMap['purge-sessions']> {
  return async () => {
    const removed = await createSessionRepository(db).purgeStale(GRACE_DAYS);
    const counters = await createLoginThrottleRepository(db).purgeIdle();
    if (removed || counters) logger.info({ removed, counters }, 'stale sessions and sign-in counters purged');
  };
}
