import type { JobMap } from '../../server/src/core/jobs/job-map.ts';
import type { Processors } from '../../server/src/core/jobs/job-types.ts';
import type { Services } from '../../server/src/services.ts';
import { answerMessage } from './processors/answer.ts';
import { ingestProcessors } from './processors/ingest.ts';
import { pruneAuditLog } from './processors/prune-audit.ts';
import { purgeSessions } from './processors/purge-sessions.ts';
import { retention } from './processors/retention.ts';

/** Every job's processor, wired to the process's services. The same map runs under BullMQ or in-process. */
export function createProcessors(services: Omit<Services, 'jobs'>): Processors<JobMap> {
  return {
    answer: answerMessage(services),
    'purge-sessions': purgeSessions(services),
    'prune-audit': pruneAuditLog(services),
    retention: retention(services),
    ...ingestProcessors(services),
  };
}
