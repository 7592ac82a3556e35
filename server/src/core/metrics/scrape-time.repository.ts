import type { Queryable } from '../db/database.ts';

export interface BacklogFigures {
  queued: number;
  processing: number;
  ingestionLagSeconds: number;
  outboxPending: number;
  handoffWaiting: number;
  handoffOldestWaitSeconds: number;
}

/**
 * Figures Prometheus reads at every scrape. The queries hit partial indexes
 * (documents_pending_idx, conversations_queue_idx) or a table that holds only the backlog (outbox),
 * so their cost follows the backlog, not the size of the tables.
 */
export function createScrapeTimeRepository(db: Queryable) {
  return {
    async backlog(): Promise<BacklogFigures> {
      const { rows } = await db.query<{
        queued: number;
        processing: number;
        ingestion_lag: number | null;
        outbox_pending: number;
        handoff_waiting: number;
        handoff_wait: number | null;
      }>(
        `SELECT
           (SELECT count(*)::int FROM documents WHERE status = 'queued') AS queued,
           (SELECT count(*)::int FROM documents WHERE status = 'processing') AS processing,
           (SELECT extract(epoch FROM now() - min(CASE WHEN status = 'processing' THEN coalesce(started_at, updated_at) ELSE updated_at END))::float8
              FROM documents WHERE status IN ('queued', 'processing')) AS ingestion_lag,
           (SELECT count(*)::int FROM outbox WHERE dispatched_at IS NULL) AS outbox_pending,
           (SELECT count(*)::int FROM conversations WHERE status = 'queued') AS handoff_waiting,
           (SELECT extract(epoch FROM now() - min(coalesce(queued_at, last_message_at)))::float8
              FROM conversations WHERE status = 'queued') AS handoff_wait`,
      );
      const r = rows[0]!;
      return {
        queued: r.queued,
        processing: r.processing,
        ingestionLagSeconds: Math.max(0, r.ingestion_lag ?? 0),
        outboxPending: r.outbox_pending,
        handoffWaiting: r.handoff_waiting,
        handoffOldestWaitSeconds: Math.max(0, r.handoff_wait ?? 0),
      };
    },
  };
}
