import type { Queryable } from '../db/database.ts';

export interface OutboxRow {
  id: string;
  job_name: string;
  payload: unknown;
  attempts: number;
}

/** The outbox table (migration 012): jobs written with the change they follow, until the runner has them. */
export function createOutboxRepository(db: Queryable) {
  return {
    /** A job already waiting under its id is not written twice. */
    async add(jobs: { name: string; jobId: string; payload: unknown }[]): Promise<void> {
      if (!jobs.length) return;
      await db.query(
        `INSERT INTO outbox (job_name, job_id, payload)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
         ON CONFLICT (job_name, job_id) DO NOTHING`,
        [jobs.map((j) => j.name), jobs.map((j) => j.jobId), jobs.map((j) => JSON.stringify(j.payload))],
      );
    },
    /**
     * Due rows, oldest first, locked until the caller's transaction ends; rows another relay holds
     * are skipped, so relays in several processes share the work instead of waiting for each other.
     */
    async lockDue(limit: number): Promise<OutboxRow[]> {
      const { rows } = await db.query<OutboxRow>(
        `SELECT id::text, job_name, payload, attempts FROM outbox WHERE next_attempt_at <= now()
          ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      return rows;
    },
    async remove(ids: string[]): Promise<void> {
      await db.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
    },
    async failed(id: string, error: string, retryInMs: number): Promise<void> {
      await db.query(
        `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
           next_attempt_at = now() + $3 * interval '1 millisecond' WHERE id = $1`,
        [id, error.slice(0, 1000), retryInMs],
      );
    },
    /** Makes these jobs due now (someone is waiting for them: a resent question). */
    async hasten(jobs: { name: string; jobId: string }[]): Promise<number> {
      if (!jobs.length) return 0;
      const { rowCount } = await db.query(
        `UPDATE outbox SET next_attempt_at = now() FROM unnest($1::text[], $2::text[]) AS j(name, id)
          WHERE outbox.job_name = j.name AND outbox.job_id = j.id AND outbox.next_attempt_at > now()`,
        [jobs.map((j) => j.name), jobs.map((j) => j.jobId)],
      );
      return rowCount;
    },
  };
}
