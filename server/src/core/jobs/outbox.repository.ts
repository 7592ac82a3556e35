import type { Queryable } from '../db/database.ts';

export interface OutboxRow {
  id: string;
  job_name: string;
  job_id: string;
  payload: unknown;
  attempts: number;
  dispatched: boolean;
}

type JobKey = { name: string; jobId: string };

/** The outbox table (migration 015): jobs written with the change they follow, kept until they have run. */
export function createOutboxRepository(db: Queryable) {
  return {
    /** A job already in the outbox under its id is not written twice. */
    async add(jobs: (JobKey & { payload: unknown })[]): Promise<void> {
      if (!jobs.length) return;
      await db.query(
        `INSERT INTO outbox (job_name, job_id, payload)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
         ON CONFLICT (job_name, job_id) DO NOTHING`,
        [jobs.map((j) => j.name), jobs.map((j) => j.jobId), jobs.map((j) => JSON.stringify(j.payload))],
      );
    },
    /**
     * Rows due for a look, oldest first, locked until the caller's transaction ends; rows another
     * relay holds are skipped, so relays in several processes share the work instead of waiting.
     */
    async lockDue(limit: number): Promise<OutboxRow[]> {
      const { rows } = await db.query<OutboxRow>(
        `SELECT id::text, job_name, job_id, payload, attempts, dispatched_at IS NOT NULL AS dispatched
           FROM outbox WHERE next_attempt_at <= now()
          ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      return rows;
    },
    /** The runner has these jobs (or was asked again and still has them): look again after `checkInMs`. */
    async dispatched(ids: string[], checkInMs: number): Promise<void> {
      if (!ids.length) return;
      await db.query(
        `UPDATE outbox SET dispatched_at = COALESCE(dispatched_at, now()), last_error = NULL,
           next_attempt_at = now() + $2 * interval '1 millisecond' WHERE id = ANY($1::bigint[])`,
        [ids, checkInMs],
      );
    },
    async remove(ids: string[]): Promise<void> {
      if (ids.length) await db.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
    },
    /** The job has run (completed, or failed for good): its row is done. */
    async finished(job: JobKey): Promise<void> {
      await db.query('DELETE FROM outbox WHERE job_name = $1 AND job_id = $2', [job.name, job.jobId]);
    },
    async failed(id: string, error: string, retryInMs: number): Promise<void> {
      await db.query(
        `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
           next_attempt_at = now() + $3 * interval '1 millisecond' WHERE id = $1`,
        [id, error.slice(0, 1000), retryInMs],
      );
    },
    /** These jobs were handed to the runner straight after their commit: look again after `checkInMs`. */
    async markDispatched(jobs: JobKey[], checkInMs: number): Promise<void> {
      if (!jobs.length) return;
      await db.query(
        `UPDATE outbox SET dispatched_at = COALESCE(dispatched_at, now()),
           next_attempt_at = now() + $3 * interval '1 millisecond'
          FROM unnest($1::text[], $2::text[]) AS j(name, id)
          WHERE outbox.job_name = j.name AND outbox.job_id = j.id`,
        [jobs.map((j) => j.name), jobs.map((j) => j.jobId), checkInMs],
      );
    },
  };
}
