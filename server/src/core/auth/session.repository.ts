import type { Queryable } from '../db/database.ts';

export function createSessionRepository(db: Queryable) {
  return {
    /** Removes sessions that expired or were revoked more than `graceDays` ago; returns how many. */
    async purgeStale(graceDays: number): Promise<number> {
      const { rowCount } = await db.query(
        `DELETE FROM sessions
          WHERE expires_at < now() - make_interval(days => $1)
             OR revoked_at < now() - make_interval(days => $1)`,
        [graceDays],
      );
      return rowCount;
    },
  };
}
