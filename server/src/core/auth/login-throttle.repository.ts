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
    /**
     * Counts one attempt before the password is checked (a correct password gives it back), so
     * parallel guesses are numbered one by one by the row lock of this upsert instead of all
     * passing a check made before any of them failed. A window older than `windowMs` starts over;
     * while the key is locked nothing is counted. Returns the updated row.
     */
    async countAttempt(key: string, windowMs: number): Promise<ThrottleRow> {
      const { rows } = await db.query<ThrottleRow>(
        `INSERT INTO login_throttle AS t (key, failures, window_started_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE
             WHEN t.locked_until > now() THEN t.failures
             WHEN t.window_started_at < now() - make_interval(secs => $2 / 1000.0) THEN 1
             ELSE t.failures + 1 END,
           window_started_at = CASE
             WHEN t.locked_until > now() THEN t.window_started_at
             WHEN t.window_started_at < now() - make_interval(secs => $2 / 1000.0) THEN now()
             ELSE t.window_started_at END
         RETURNING *`,
        [key, windowMs],
      );
      return rows[0]!;
    },
    /** Locks the key until `until` unless it already is locked (parallel attempts must not escalate it twice); returns the lock's end. */
    async lock(key: string, until: Date): Promise<Date> {
      const { rows } = await db.query<{ locked_until: Date }>(
        `UPDATE login_throttle SET locked_until = $2, lockouts = LEAST(lockouts + 1, 1000000), failures = 0, window_started_at = now()
          WHERE key = $1 AND (locked_until IS NULL OR locked_until <= now())
          RETURNING locked_until`,
        [key, until],
      );
      if (rows[0]) return rows[0].locked_until;
      const current = await db.query<{ locked_until: Date | null }>(
        'SELECT locked_until FROM login_throttle WHERE key = $1',
        [key],
      );
      return current.rows[0]?.locked_until ?? until;
    },
    /** Gives back attempts counted for a sign-in that turned out correct. */
    async refund(keys: string[]): Promise<void> {
      await db.query('UPDATE login_throttle SET failures = GREATEST(failures - 1, 0) WHERE key = ANY($1::text[])', [
        keys,
      ]);
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
    /** Whether this account has signed in from this address before (a session row, live or recently ended). */
    async knownAddress(email: string, ip: string): Promise<boolean> {
      const { rows } = await db.query(
        `SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE lower(u.email) = lower($1) AND s.ip = $2 LIMIT 1`,
        [email, ip],
      );
      return rows.length > 0;
    },
  };
}
