import path from 'node:path';
import type { JobMap } from '../../../server/src/core/jobs/job-map.ts';
import type { Processor } from '../../../server/src/core/jobs/job-types.ts';
import { applyRetention } from '../../../server/src/core/retention/retention.service.ts';
import { createLocalDiskStorage } from '../../../server/src/core/storage/local-disk-storage.ts';
import type { Services } from '../../../server/src/services.ts';

/** Message and file retention (MESSAGE_RETENTION_DAYS, FILE_RETENTION_DAYS; 0 = off), audited per batch. */
export function retention({ db, config, logger }: Pick<Services, 'db' | 'config' | 'logger'>): Processor<JobMap['retention']> {
  const storage = createLocalDiskStorage(path.join(config.dataDir, 'files'));
  return async () => {
    const policy = { messageDays: config.messageRetentionDays, fileDays: config.fileRetentionDays };
    if (!policy.messageDays && !policy.fileDays) return;
    const report = await applyRetention(db, storage, policy);
    if (report.orphanedFiles.length) logger.warn({ keys: report.orphanedFiles.slice(0, 20) }, 'retention could not remove some stored files');
    if (report.messages || report.conversations || report.files) logger.info({ ...report, orphanedFiles: report.orphanedFiles.length, ...policy }, 'retention applied');
  };
}
