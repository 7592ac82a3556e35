import type { PresentedAudit } from './audit.presenter.ts';

export const AUDIT_CSV_HEADER = [
  'id',
  'at',
  'actor_name',
  'actor_email',
  'action',
  'target_type',
  'target_id',
  'target_label',
  'ip',
  'details',
];

/**
 * One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (=, +, -, @, tab,
 * carriage return first) gets a leading apostrophe: audit data holds text people typed.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function auditCsvLine(entry: PresentedAudit): string {
  const details = JSON.stringify(entry.details);
  return [
    entry.id,
    entry.at,
    entry.actor?.name,
    entry.actor?.email,
    entry.action,
    entry.target?.type,
    entry.target?.id,
    entry.target?.label,
    entry.ip,
    details === '{}' ? '' : details,
  ]
    .map(csvCell)
    .join(',');
}
