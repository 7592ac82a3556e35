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
    async list(filter: AuditFilter): Promise<AuditRow[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (filter.action) add('action LIKE ?', `${filter.action.replace(/[%_\\]/g, '\\$&')}%`);
      if (filter.actorId) add('actor_id = ?', filter.actorId);
      if (filter.targetType) add('target_type = ?', filter.targetType);
      if (filter.targetId) add('target_id = ?', filter.targetId);
      if (filter.from) add('at >= ?', filter.from);
      if (filter.to) add('at < ?', filter.to);
      if (filter.beforeId) add('id < ?', filter.beforeId);
      params.push(filter.limit);
      const { rows } = await db.query<AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
        params,
      );
      return rows;
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
