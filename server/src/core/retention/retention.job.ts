import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { Processor } from '../jobs/job-types.ts';
import type { Logger } from '../logger.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { applyRetention } from './retention.service.ts';

/** `retention`: message and file retention (MESSAGE_/FILE_RETENTION_DAYS; 0 = off), audited per batch. */
export function retentionJob({
  db,
  files,
  config,
  logger,
}: {
  db: Database;
  /** The stored files the expired rows point at. */
  files: BlobStorage;
  config: Pick<Config, 'messageRetentionDays' | 'fileRetentionDays'>;
  logger: Logger;
}): Processor<JobMap['retention']> {
  return async () => {
    const policy = { messageDays: config.messageRetentionDays, fileDays: config.fileRetentionDays };
    if (!policy.messageDays && !policy.fileDays) return;
    const report = await applyRetention(db, files, policy);
    if (report.orphanedFiles.length) {
      logger.warn({ keys: report.orphanedFiles.slice(0, 20) }, 'retention could not remove some stored files');
    }
    if (report.messages || report.conversations || report.files) {
      logger.info({ ...report, orphanedFiles: report.orphanedFiles.length, ...policy }, 'retention applied');
    }
  };
}
