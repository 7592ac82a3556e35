import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { Processor } from '../jobs/job-types.ts';
import type { Logger } from '../logger.ts';
import { pruneAudit } from './audit.service.ts';

/** `prune-audit`: records older than AUDIT_RETENTION_DAYS go, and the pruning itself is audited. */
export function pruneAuditJob({
  db,
  config,
  logger,
}: {
  db: Database;
  config: Pick<Config, 'auditRetentionDays'>;
  logger: Logger;
}): Processor<JobMap['prune-audit']> {
  return async () => {
    const removed = await pruneAudit(db, config.auditRetentionDays);
    if (!removed) return;
    logger.info({ removed, retentionDays: config.auditRetentionDays }, 'audit records past retention removed');
  };
}
