import type { Queryable } from '../db/database.ts';

export interface AuditRow {
  id: number;
  at: Date;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditFilter {
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  /** Rows with id below this (newest first paging). */
  beforeId?: number;
  limit: number;
}

/** An audit record with the names of its actor and target as they are now (when they still exist). */
export interface LabelledAuditRow extends AuditRow {
  actor_name: string | null;
  target_label: string | null;
}

// Targets are stored as text (messages have bigint ids); only a uuid-shaped one is looked up as a uuid.
const TARGET_UUID = `CASE WHEN a.target_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN a.target_id::uuid END`;
const TARGET_LABEL = `CASE a.target_type
    WHEN 'user' THEN (SELECT tu.name FROM users tu WHERE tu.id = ${TARGET_UUID})
    WHEN 'group' THEN (SELECT tg.name FROM groups tg WHERE tg.id = ${TARGET_UUID})
    WHEN 'collection' THEN (SELECT tc.name FROM collections tc WHERE tc.id = ${TARGET_UUID})
    WHEN 'document' THEN (SELECT td.title FROM documents td WHERE td.id = ${TARGET_UUID})
    WHEN 'bot' THEN (SELECT tb.name FROM bots tb WHERE tb.id = ${TARGET_UUID})
    WHEN 'api_token' THEN (SELECT tt.name FROM api_tokens tt WHERE tt.id = ${TARGET_UUID})
  END`;

// Serialises writers so every row links to the one before it (migration 008's audit_link takes it at commit).
const CHAIN_LOCK_KEY = 4_242_010;

export function createAuditRepository(db: Queryable) {
  return {
    /** Must run inside a transaction: the lock is held until it commits (retention holds it across its delete). */
    async lockChain(): Promise<void> {
      await db.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK_KEY]);
    },
    /**
     * Adds records to be linked into the chain when the transaction commits (migration 008): the
     * chain lock is then taken and held only by the commit. `body` is a record's canonical form,
     * which the database hashes with the head's hash.
     */
    async addPending(rows: { row: Omit<AuditRow, 'id' | 'prev_hash' | 'hash'>; body: string }[]): Promise<void> {
      // One statement for many records: they are linked at commit in the order given (seq).
      await db.query(
        `INSERT INTO audit_pending (body, at, actor_id, actor_email, action, target_type, target_id, ip, details)
         SELECT u.body, u.at, u.actor_id, u.actor_email, u.action, u.target_type, u.target_id, u.ip, u.details::jsonb
         FROM unnest($1::text[], $2::timestamptz[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
           WITH ORDINALITY AS u(body, at, actor_id, actor_email, action, target_type, target_id, ip, details, n)
         ORDER BY u.n`,
        [
          rows.map((r) => r.body),
          rows.map((r) => r.row.at),
          rows.map((r) => r.row.actor_id),
          rows.map((r) => r.row.actor_email),
          rows.map((r) => r.row.action),
          rows.map((r) => r.row.target_type),
          rows.map((r) => r.row.target_id),
          rows.map((r) => r.row.ip),
          rows.map((r) => JSON.stringify(r.row.details)),
        ],
      );
    },
    async list(filter: AuditFilter): Promise<LabelledAuditRow[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.action) add('a.action LIKE ?', `${filter.action.replace(/[%_\\]/g, '\\$&')}%`);
      if (filter.actorId) add('a.actor_id = ?', filter.actorId);
      if (filter.targetType) add('a.target_type = ?', filter.targetType);
      if (filter.targetId) add('a.target_id = ?', filter.targetId);
      if (filter.from) add('a.at >= ?', filter.from);
      if (filter.to) add('a.at < ?', filter.to);
      if (filter.beforeId) add('a.id < ?', filter.beforeId);
      params.push(filter.limit);
      const { rows } = await db.query<LabelledAuditRow>(
        `SELECT a.*, au.name AS actor_name, ${TARGET_LABEL} AS target_label
           FROM audit_log a LEFT JOIN users au ON au.id = a.actor_id
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY a.id DESC LIMIT $${params.length}`,
        params,
      );
      return rows;
    },
    /** Every action recorded, in order: a skip scan over the (action, at) index, not a full read. */
    async actions(): Promise<string[]> {
      const { rows } = await db.query<{ action: string }>(
        `WITH RECURSIVE found AS (
           (SELECT action FROM audit_log ORDER BY action LIMIT 1)
           UNION ALL
           SELECT (SELECT a.action FROM audit_log a WHERE a.action > found.action ORDER BY a.action LIMIT 1)
             FROM found WHERE found.action IS NOT NULL
         )
         SELECT action FROM found WHERE action IS NOT NULL`,
      );
      return rows.map((r) => r.action);
    },
    /** Oldest first, in pages, for chain verification. */
    async pageFrom(afterId: number, limit: number): Promise<AuditRow[]> {
      const { rows } = await db.query<AuditRow>('SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2', [
        afterId,
        limit,
      ]);
      return rows;
    },
    /** Deletes rows older than the cutoff (the retention job); returns how many went. */
    async pruneBefore(cutoff: Date): Promise<number> {
      await db.query(`SELECT set_config('enclave.audit_prune', 'on', true)`);
      const { rowCount } = await db.query('DELETE FROM audit_log WHERE at < $1', [cutoff]);
      return rowCount;
    },
  };
}
