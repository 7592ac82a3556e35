import type { Queryable } from '../db/database.ts';

export interface ThrottleRow {
  key: string;
  failures: number;
  window_started_at: Date;
  locked_until: Date | null;
  lockouts: number;
}

export function createLoginThrottleRepository(db: Queryable) {
  return {
    async find(keys: string[]): Promise<ThrottleRow[]> {
      const { rows } = await db.query<ThrottleRow>('SELECT * FROM login_throttle WHERE key = ANY($1::text[])', [keys]);
      return rows;
    },
    /** Counts one failure; a window older than `windowMs` starts over. Returns the updated row. */
    async recordFailure(key: string, windowMs: number): Promise<ThrottleRow> {
      const { rows } = await db.query<ThrottleRow>(
        `INSERT INTO login_throttle AS t (key, failures, window_started_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN t.window_started_at < now() - make_interval(secs => $2 / 1000.0) THEN 1 ELSE t.failures + 1 END,
           window_started_at = CASE WHEN t.window_started_at < now() - make_interval(secs => $2 / 1000.0) THEN now() ELSE t.window_started_at END
         RETURNING *`,
        [key, windowMs],
      );
      return rows[0]!;
    },
    async lock(key: string, until: Date): Promise<void> {
      await db.query(
        'UPDATE login_throttle SET locked_until = $2, lockouts = lockouts + 1, failures = 0, window_started_at = now() WHERE key = $1',
        [key, until],
      );
    },
    /** Counters with no lock and no failure in the last day carry no information any more. */
    async purgeIdle(): Promise<number> {
      const { rowCount } = await db.query(
        `DELETE FROM login_throttle WHERE window_started_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())`,
      );
      return rowCount;
    },
    async clear(key: string): Promise<void> {
      await db.query('DELETE FROM login_throttle WHERE key = $1', [key]);
    },
  };
}
