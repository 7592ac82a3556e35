import type { Queryable } from '../db/database.ts';

export interface CannedReplyRow {
  id: string;
  owner_id: string | null;
  shortcut: string;
  body: string;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, owner_id, shortcut, body, created_at, updated_at';

/** Canned replies: shared ones have no owner; a personal one is seen by its owner alone. */
export function createCannedReplyRepository(db: Queryable) {
  return {
    /** The shared ones and `agentId`'s own, by shortcut (shared first on a tie). */
    async visibleTo(agentId: string): Promise<CannedReplyRow[]> {
      const { rows } = await db.query<CannedReplyRow>(
        `SELECT ${COLUMNS} FROM canned_replies WHERE owner_id IS NULL OR owner_id = $1
          ORDER BY lower(shortcut), owner_id NULLS FIRST, id`,
        [agentId],
      );
      return rows;
    },
    /** One reply if `agentId` may see it (shared, or theirs). */
    async findVisible(id: string, agentId: string): Promise<CannedReplyRow | undefined> {
      const { rows } = await db.query<CannedReplyRow>(
        `SELECT ${COLUMNS} FROM canned_replies WHERE id = $1 AND (owner_id IS NULL OR owner_id = $2)`,
        [id, agentId],
      );
      return rows[0];
    },
    async insert(input: { ownerId: string | null; shortcut: string; body: string; createdBy: string }) {
      const { rows } = await db.query<CannedReplyRow>(
        `INSERT INTO canned_replies (owner_id, shortcut, body, created_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [input.ownerId, input.shortcut, input.body, input.createdBy],
      );
      return rows[0]!;
    },
    async update(id: string, patch: { shortcut?: string | undefined; body?: string | undefined }) {
      const { rows } = await db.query<CannedReplyRow>(
        `UPDATE canned_replies SET shortcut = COALESCE($2, shortcut), body = COALESCE($3, body), updated_at = now()
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, patch.shortcut ?? null, patch.body ?? null],
      );
      return rows[0];
    },
    async delete(id: string): Promise<void> {
      await db.query('DELETE FROM canned_replies WHERE id = $1', [id]);
    },
  };
}
