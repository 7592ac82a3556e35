import type { LabelledAuditRow } from './audit.repository.ts';

/** A deleted target keeps the name its record was written with (deletions record it in details). */
function labelFromDetails(details: Record<string, unknown>): string | null {
  for (const key of ['name', 'title', 'email']) {
    const value = details[key];
    if (typeof value === 'string' && value) return value;
  }
  return null;
}

/**
 * One audit record as the API shows it, hash included (the web app imports this type). `actor` is
 * null for what Enclave did by itself (retention, startup); names are today's, ids and the stored
 * email are what the record holds.
 */
export function presentAudit(row: LabelledAuditRow) {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor_id ? { id: row.actor_id, email: row.actor_email, name: row.actor_name } : null,
    action: row.action,
    target: row.target_type
      ? { type: row.target_type, id: row.target_id, label: row.target_label ?? labelFromDetails(row.details) }
      : null,
    ip: row.ip,
    details: row.details,
    hash: row.hash,
  };
}

export type PresentedAudit = ReturnType<typeof presentAudit>;
