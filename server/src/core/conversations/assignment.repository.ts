import type { Queryable } from '../db/database.ts';

// Serialises automatic assignment so two servers never push one agent past capacity.
const ASSIGNMENT_LOCK_KEY = 4_242_020;

export function createAssignmentRepository(db: Queryable) {
  return {
    /** Inside a transaction: held until it ends. */
    async lock(): Promise<void> {
      await db.query('SELECT pg_advisory_xact_lock($1)', [ASSIGNMENT_LOCK_KEY]);
    },
    /** The agent for a conversation of `team` (null: any), never `except`; undefined when nobody is free. */
    async pickAgent(team: string | null, except?: string): Promise<string | undefined> {
      const { rows } = await db.query<{ id: string }>(
        `SELECT u.id FROM users u
          WHERE u.role = 'agent' AND NOT u.disabled AND u.available
            AND ($1::text IS NULL OR $1 = ANY(u.skills))
            AND ($2::uuid IS NULL OR u.id <> $2::uuid)
            AND (SELECT count(*) FROM conversations c WHERE c.assignee_id = u.id AND c.status = 'assigned') < u.capacity
          ORDER BY (SELECT count(*) FROM conversations c WHERE c.assignee_id = u.id AND c.status = 'assigned'),
                   u.last_assigned_at ASC NULLS FIRST, u.id
          LIMIT 1`,
        [team, except ?? null],
      );
      return rows[0]?.id;
    },
    async markAssigned(agentId: string): Promise<void> {
      await db.query('UPDATE users SET last_assigned_at = now() WHERE id = $1', [agentId]);
    },
    async isActiveAgent(userId: string): Promise<boolean> {
      const { rows } = await db.query(
        `SELECT 1 FROM users WHERE id = $1 AND role IN ('agent', 'admin') AND NOT disabled`,
        [userId],
      );
      return rows.length > 0;
    },
    async setAvailable(userId: string, available: boolean): Promise<void> {
      await db.query('UPDATE users SET available = $2 WHERE id = $1', [userId, available]);
    },
  };
}
