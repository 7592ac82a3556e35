import { appendAudit } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { createRetentionRepository } from './retention.repository.ts';

const DAY_MS = 86_400_000;
const BATCH = 5_000;

export interface RetentionPolicy {
  /** Days to keep messages; 0 keeps them forever. */
  messageDays: number;
  /** Days to keep stored message attachments; 0 keeps them forever. */
  fileDays: number;
}

export interface RetentionReport {
  messages: number;
  conversations: number;
  files: number;
  /** Stored files whose rows went but whose bytes could not be removed (removed on a later run by nothing: logged). */
  orphanedFiles: string[];
}

/**
 * Applies message and file retention (MESSAGE_RETENTION_DAYS, FILE_RETENTION_DAYS). Each batch is
 * one transaction that deletes rows and appends an audit record saying what went, so the log
 * never misses a deletion that happened; stored bytes are removed after their rows are gone.
 * Audit records have their own retention (prune-audit). Knowledge documents are curated content
 * and are not touched: an admin deletes those.
 */
export async function applyRetention(
  db: Database,
  storage: BlobStorage,
  policy: RetentionPolicy,
  now = new Date(),
): Promise<RetentionReport> {
  const report: RetentionReport = { messages: 0, conversations: 0, files: 0, orphanedFiles: [] };
  const removeBlobs = async (keys: string[]) => {
    for (const key of keys) {
      try {
        await storage.delete(key);
        report.files += 1;
      } catch {
        report.orphanedFiles.push(key);
      }
    }
  };

  if (policy.messageDays > 0) {
    const before = new Date(now.getTime() - policy.messageDays * DAY_MS);
    for (;;) {
      const batch = await db.transaction(async (tx) => {
        const repo = createRetentionRepository(tx);
        const messages = await repo.deleteMessagesBefore(before, BATCH);
        const conversations =
          messages.messages < BATCH
            ? await repo.deleteEmptyConversationsBefore(before, BATCH)
            : { conversations: 0, storageKeys: [] };
        const files = [...messages.storageKeys, ...conversations.storageKeys];
        if (messages.messages || conversations.conversations) {
          await appendAudit(tx, {
            action: 'retention.messages_deleted',
            details: {
              messages: messages.messages,
              conversations: conversations.conversations,
              attachments: files.length,
              before: before.toISOString(),
              retentionDays: policy.messageDays,
            },
          });
        }
        return { ...messages, conversations: conversations.conversations, files };
      });
      report.messages += batch.messages;
      report.conversations += batch.conversations;
      await removeBlobs(batch.files);
      if (batch.messages < BATCH && batch.conversations < BATCH) break;
    }
  }

  if (policy.fileDays > 0) {
    const before = new Date(now.getTime() - policy.fileDays * DAY_MS);
    for (;;) {
      const keys = await db.transaction(async (tx) => {
        const removed = await createRetentionRepository(tx).deleteAttachmentsBefore(before, BATCH);
        if (removed.length) {
          await appendAudit(tx, {
            action: 'retention.files_deleted',
            details: { attachments: removed.length, before: before.toISOString(), retentionDays: policy.fileDays },
          });
        }
        return removed;
      });
      await removeBlobs(keys);
      if (keys.length < BATCH) break;
    }
  }
  return report;
}
