import type { Queryable } from '../db/database.ts';

export interface SessionRow {
  id: string;
  user_id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export function createSessionRepository(db: Queryable) {
  return {
    async insert(session: {
      userId: string;
      tokenHash: string;
      ip: string | null;
      userAgent: string | null;
      expiresAt: Date;
    }) {
      const { rows } = await db.query<SessionRow>(
        `INSERT INTO sessions (user_id, token_hash, ip, user_agent, expires_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, user_id, ip, user_agent, created_at, last_used_at, expires_at, revoked_at`,
        [session.userId, session.tokenHash, session.ip, session.userAgent, session.expiresAt],
      );
      return rows[0]!;
    },
    /** At most one write a minute per session, so reads stay reads. */
    async touch(id: string): Promise<void> {
      await db.query(
        `UPDATE sessions SET last_used_at = now() WHERE id = $1 AND last_used_at < now() - interval '1 minute'`,
        [id],
      );
    },
    async listLive(userId: string): Promise<SessionRow[]> {
      const { rows } = await db.query<SessionRow>(
        `SELECT id, user_id, ip, user_agent, created_at, last_used_at, expires_at, revoked_at FROM sessions
          WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY last_used_at DESC`,
        [userId],
      );
      return rows;
    },
    /** Revokes one of the user's sessions; false when there was no such live session. */
    async revoke(userId: string, id: string): Promise<boolean> {
      const { rowCount } = await db.query(
        `UPDATE sessions SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
        [id, userId],
      );
      return rowCount > 0;
    },
    /** Revokes every live session of a user (disable, password reset); returns their ids. */
    async revokeAll(userId: string): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>(
        `UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
        [userId],
      );
      return rows.map((r) => r.id);
    },
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
