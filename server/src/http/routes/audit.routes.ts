import { z } from 'zod';
import type { AuditService } from '../../core/audit/audit.service.ts';
import { presentAudit } from '../../core/audit/audit.presenter.ts';
import { defineCursor, keyPart } from '../../core/pagination/cursor.ts';
import type { SecureRouter } from '../secure-router.ts';
import { page, pageQuery, query, queryDate } from '../validate.ts';

export const auditQuery = pageQuery.extend({
  action: z.string().max(100).optional(),
  actorId: z.uuid().optional(),
  targetType: z.string().max(50).optional(),
  targetId: z.string().max(200).optional(),
  from: queryDate.optional(),
  to: queryDate.optional(),
});

/** Newest first: the id of the last record seen. */
const byId = defineCursor(z.tuple([keyPart.bigint]).transform(([id]) => id));

/** The audit trail, newest first, filterable; and an on-demand check of its hash chain. */
export function auditRoutes(r: SecureRouter, audit: AuditService) {
  r.get('/api/admin/audit', 'admin', async (req, res) => {
    const q = query(auditQuery, req);
    const rows = await audit.list({ ...q, beforeId: byId.decode(q.cursor), limit: q.limit + 1 });
    res.json(page(rows, q.limit, presentAudit, (row) => byId.encode([row.id])));
  });

  r.get('/api/admin/audit/verify', 'admin', async (_req, res) => {
    res.json(await audit.verify());
  });
}
