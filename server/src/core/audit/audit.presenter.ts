import type { AuditRow } from './audit.repository.ts';

/** One audit record as the API shows it, hash included (the web app imports this type). */
export function presentAudit(row: AuditRow) {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor_id ? { id: row.actor_id, email: row.actor_email } : null,
    action: row.action,
    target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
    ip: row.ip,
    details: row.details,
    hash: row.hash,
  };
}

export type PresentedAudit = ReturnType<typeof presentAudit>;
