import { api } from './client';
import type { AuditEntry, Page } from './types';

export interface AuditQuery {
  action: string;
  actorId: string;
  targetType: string;
  /** ISO timestamps, or '' for no bound. */
  from: string;
  to: string;
  limit: number;
  cursor?: string | undefined;
}

/** The result of re-hashing the chain: `ok`, and where it broke if it did. */
export type AuditVerification = { ok?: boolean; [field: string]: unknown };

/** The audit trail, newest first. */
export function listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
  return api<Page<AuditEntry>>('/api/admin/audit', { query: { ...query } });
}

export function verifyAudit(): Promise<AuditVerification> {
  return api<AuditVerification>('/api/admin/audit/verify');
}

/** The actions the trail holds (codes; the page translates them). */
export async function listAuditActions(): Promise<string[]> {
  return (await api<{ items: string[] }>('/api/admin/audit/actions')).items;
}

/** Where the browser downloads the filtered trail as CSV (the session cookie authorises the GET). */
export function auditExportUrl(filter: Omit<AuditQuery, 'limit' | 'cursor'>): string {
  const params = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== ''));
  return `/api/admin/audit/export${params.size ? `?${params}` : ''}`;
}
