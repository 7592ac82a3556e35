import { pruneAudit } from '../../../server/src/core/audit/audit.service.ts';
import type { JobMap } from '../../../server/src/core/jobs/job-map.ts';
import type { Processor } from '../../../server/src/core/jobs/job-types.ts';
import type { Services } from '../../../server/src/services.ts';

/** Audit retention: records older than AUDIT_RETENTION_DAYS go, and the pruning itself is audited. */
export function pruneAuditLog({ db, config, logger }: Pick<Services, 'db' | 'config' | 'logger'>): Processor<JobMap['prune-audit']> {
  return async () => {
    const removed = await pruneAudit(db, config.auditRetentionDays);
    if (removed) logger.info({ removed, retentionDays: config.auditRetentionDays }, 'audit records past retention removed');
  };
}
