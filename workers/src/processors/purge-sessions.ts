import { createLoginThrottleRepository } from '../../../server/src/core/auth/login-throttle.repository.ts';
import { createSessionRepository } from '../../../server/src/core/auth/session.repository.ts';
import type { Processor } from '../../../server/src/core/jobs/job-types.ts';
import type { JobMap } from '../../../server/src/core/jobs/job-map.ts';
import type { Services } from '../../../server/src/services.ts';

// Keep revoked/expired rows a week so "why was I signed out?" can still be answered.
const GRACE_DAYS = 7;

export function purgeSessions({ db, logger }: Pick<Services, 'db' | 'logger'>): Processor<JobMap['purge-sessions']> {
  return async () => {
    const removed = await createSessionRepository(db).purgeStale(GRACE_DAYS);
    const counters = await createLoginThrottleRepository(db).purgeIdle();
    if (removed || counters) logger.info({ removed, counters }, 'stale sessions and sign-in counters purged');
  };
}
