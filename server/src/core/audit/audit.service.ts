import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../db/database.ts';
import { canonicalJson } from './canonical-json.ts';
import { createAuditRepository, type AuditFilter, type AuditRow, type LabelledAuditRow } from './audit.repository.ts';

export interface AuditEntry {
  action: string;
  actor?: { id: string; email: string } | null;
  target?: { type: string; id: string } | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

/** What a record's hash covers besides the previous hash. */
function rowBody(row: Omit<AuditRow, 'id' | 'hash' | 'prev_hash'>): string {
  return canonicalJson({
    at: row.at.toISOString(),
    actorId: row.actor_id,
    actorEmail: row.actor_email,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    details: row.details,
  });
}

const chainHash = (prevHash: string, body: string) =>
  createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text as Postgres stores and returns it: it refuses NUL, and UTF-8 cannot carry an unpaired
 * surrogate (it would come back as U+FFFD). Both become U+FFFD before hashing, so what is hashed is
 * what is read back. Records carry text from outside (a typed email, an identity provider's claims).
 */
function storableText(text: string): string {
  return text.replace(/\u0000/g, '\ufffd').replace(LONE_SURROGATE, '\ufffd');
}

function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]));
  }
  return value;
}

const storableOrNull = (text: string | null | undefined) => (text == null ? null : storableText(text));

/**
 * Adds a record, linked to the previous one when the transaction commits. Pass the transaction that
 * makes the audited change so the change and its record commit together (or neither does).
 */
export function appendAudit(tx: Queryable, entry: AuditEntry): Promise<void> {
  return appendAudits(tx, [entry]);
}

/** `appendAudit` for many records in one statement (a bulk import), chained in the order given. */
export async function appendAudits(tx: Queryable, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  // Millisecond precision: what a JS Date round-trips, so the hash verifies after reading back.
  const at = new Date();
  const rows = entries.map((entry) => {
    const row = {
      at,
      actor_id: entry.actor?.id ?? null,
      actor_email: storableOrNull(entry.actor?.email),
      action: storableText(entry.action),
      target_type: storableOrNull(entry.target?.type),
      target_id: storableOrNull(entry.target?.id),
      ip: storableOrNull(entry.ip),
      // Through JSON first, as jsonb will see it (Dates become strings, undefined goes).
      details: storableJson(JSON.parse(JSON.stringify(entry.details ?? {}))) as Record<string, unknown>,
    };
    return { row, body: rowBody(row) };
  });
  await createAuditRepository(tx).addPending(rows);
}

/** Appends in a transaction of its own (for events with no other write, like a failed sign-in). */
export function recordAudit(db: Database, entry: AuditEntry): Promise<void> {
  return db.transaction((tx) => appendAudit(tx, entry));
}

export type ChainVerification =
  { ok: true; rows: number } | { ok: false; rows: number; brokenAtId: number; reason: string };

/**
 * Walks the chain oldest first. The oldest remaining row is trusted as the anchor (retention
 * deletes from the start); every later row must link to its predecessor and hash to itself.
 */
export async function verifyAuditChain(db: Queryable, pageSize = 1000): Promise<ChainVerification> {
  const repo = createAuditRepository(db);
  let prevHash: string | undefined;
  let lastId = 0;
  let count = 0;
  for (;;) {
    const page = await repo.pageFrom(lastId, pageSize);
    for (const row of page) {
      count += 1;
      if (prevHash !== undefined && row.prev_hash !== prevHash) {
        return {
          ok: false,
          rows: count,
          brokenAtId: row.id,
          reason: 'does not link to the previous record (a record was removed or reordered)',
        };
      }
      if (chainHash(row.prev_hash, rowBody(row)) !== row.hash) {
        return {
          ok: false,
          rows: count,
          brokenAtId: row.id,
          reason: 'its content does not match its hash (the record was edited)',
        };
      }
      prevHash = row.hash;
      lastId = row.id;
    }
    if (page.length < pageSize) return { ok: true, rows: count };
  }
}

const EXPORT_PAGE = 1000;

/**
 * The audit trail as admins read it: filtered pages newest first, the actions it holds, an export
 * of everything a filter matches, and an on-demand chain check.
 */
export function createAuditService(deps: { db: Database }) {
  return {
    list(filter: AuditFilter): Promise<LabelledAuditRow[]> {
      return createAuditRepository(deps.db).list(filter);
    },
    actions(): Promise<string[]> {
      return createAuditRepository(deps.db).actions();
    },
    /**
     * Every record the filter matches, newest first, a page at a time (an export of years of records
     * never sits in memory). Reading the trail out is itself recorded, with the filter, before the first row.
     */
    async *export(
      filter: Omit<AuditFilter, 'beforeId' | 'limit'>,
      by: { actor: { id: string; email: string }; ip: string | null },
    ): AsyncGenerator<LabelledAuditRow[]> {
      await recordAudit(deps.db, {
        action: 'audit.exported',
        actor: by.actor,
        ip: by.ip,
        details: JSON.parse(JSON.stringify(filter)) as Record<string, unknown>,
      });
      let beforeId: number | undefined;
      for (;;) {
        const rows = await createAuditRepository(deps.db).list({ ...filter, beforeId, limit: EXPORT_PAGE });
        if (rows.length) yield rows;
        if (rows.length < EXPORT_PAGE) return;
        beforeId = rows[rows.length - 1]!.id;
      }
    },
    verify(): Promise<ChainVerification> {
      return verifyAuditChain(deps.db);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;

/** Retention: drops records older than `days` and records that it did, in one transaction. */
export async function pruneAudit(db: Database, days: number): Promise<number> {
  return db.transaction(async (tx) => {
    const repo = createAuditRepository(tx);
    await repo.lockChain();
    const cutoff = new Date(Date.now() - days * 86_400_000);
    const removed = await repo.pruneBefore(cutoff);
    if (removed)
      await appendAudit(tx, {
        action: 'audit.pruned',
        details: { removed, before: cutoff.toISOString(), retentionDays: days },
      });
    return removed;
  });
}
