import { z } from 'zod';
import type { AuditService } from '../../core/audit/audit.service.ts';
import { AUDIT_CSV_HEADER, auditCsvLine } from '../../core/audit/audit-csv.ts';
import { presentAudit } from '../../core/audit/audit.presenter.ts';
import { defineCursor, keyPart } from '../../core/pagination/cursor.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { page, pageQuery, query, queryDate } from '../validate.ts';

const auditFilter = z.object({
  action: z.string().max(100).optional(),
  actorId: z.uuid().optional(),
  targetType: z.string().max(50).optional(),
  targetId: z.string().max(200).optional(),
  from: queryDate.optional(),
  to: queryDate.optional(),
});
export const auditQuery = pageQuery.extend(auditFilter.shape);
export const auditExportQuery = auditFilter;

/** Newest first: the id of the last record seen. */
const byId = defineCursor(z.tuple([keyPart.bigint]).transform(([id]) => id));

/** The audit trail, newest first, filterable; and an on-demand check of its hash chain. */
export function auditRoutes(r: SecureRouter, audit: AuditService) {
  r.get('/api/admin/audit', 'admin', async (req, res) => {
    const q = query(auditQuery, req);
    const rows = await audit.list({ ...q, beforeId: byId.decode(q.cursor), limit: q.limit + 1 });
    res.json(page(rows, q.limit, presentAudit, (row) => byId.encode([row.id])));
  });

  r.get('/api/admin/audit/actions', 'admin', async (_req, res) => {
    res.json({ items: await audit.actions() });
  });

  // CSV for spreadsheets: UTF-8 with a byte-order mark (Excel then reads Chinese names right).
  r.get('/api/admin/audit/export', 'admin', async (req, res) => {
    const filter = query(auditExportQuery, req);
    const actor = actorOf(req);
    const pages = audit.export(filter, { actor: { id: actor.id, email: actor.email }, ip: clientOf(req).ip });
    const stamp = new Date().toISOString().slice(0, 10);
    res.type('text/csv; charset=utf-8').attachment(`enclave-audit-${stamp}.csv`);
    res.write(`\ufeff${AUDIT_CSV_HEADER.join(',')}\r\n`);
    // A client that goes away stops the reading (break ends the generator).
    const gone = new Promise((resolve) => res.once('close', resolve));
    for await (const rows of pages) {
      const chunk = rows.map((row) => `${auditCsvLine(presentAudit(row))}\r\n`).join('');
      if (!res.write(chunk)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), gone]);
      if (res.destroyed) break;
    }
    res.end();
  });

  r.get('/api/admin/audit/verify', 'admin', async (_req, res) => {
    res.json(await audit.verify());
  });
}
