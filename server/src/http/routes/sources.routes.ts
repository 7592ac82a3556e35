import { z } from 'zod';
import { presentDocumentVersion, presentSource } from '../../core/knowledge/sources/source.presenter.ts';
import type { SourceService } from '../../core/knowledge/sources/source.service.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, uuidParam } from '../validate.ts';

/** hourly | daily | weekly | a five-field cron expression (checked by the service); null: no schedule. */
const schedule = z.string().trim().min(1).max(120).nullable();
export const folderSchema = z.strictObject({
  kind: z.literal('folder'),
  path: z.string().trim().min(1).max(4096),
  schedule: schedule.optional(),
});
export const sourceUpdateSchema = z.strictObject({ schedule });

/** Sources that keep documents in step (URL imports, crawled sites, server folders): list, add a folder, schedule, refresh, versions. */
export function sourceRoutes(r: SecureRouter, sources: SourceService) {
  r.get('/api/collections/:id/sources', 'admin', async (req, res) => {
    const items = await sources.listSources(actorOf(req), uuidParam(req));
    res.json({ items: items.map(presentSource) });
  });

  r.post('/api/collections/:id/sources', 'admin', async (req, res) => {
    const { path, schedule } = body(folderSchema, req);
    const source = await sources.addFolder(actorOf(req), uuidParam(req), { path, schedule }, clientOf(req));
    res.status(201).json({ source: presentSource(source) });
  });

  r.get('/api/sources/:id', 'admin', async (req, res) => {
    res.json({ source: presentSource(await sources.getSource(uuidParam(req))) });
  });

  r.patch('/api/sources/:id', 'admin', async (req, res) => {
    const source = await sources.setSchedule(
      actorOf(req),
      uuidParam(req),
      body(sourceUpdateSchema, req),
      clientOf(req),
    );
    res.json({ source: presentSource(source) });
  });

  r.delete('/api/sources/:id', 'admin', async (req, res) => {
    await sources.deleteSource(actorOf(req), uuidParam(req), clientOf(req));
    res.status(204).end();
  });

  r.post('/api/sources/:id/refresh', 'admin', async (req, res) => {
    const source = await sources.refreshNow(actorOf(req), uuidParam(req), clientOf(req));
    res.status(202).json({ source: presentSource(source) });
  });

  r.get('/api/documents/:id/versions', 'admin', async (req, res) => {
    const versions = await sources.listVersions(uuidParam(req));
    res.json({ items: versions.map(presentDocumentVersion) });
  });
}
