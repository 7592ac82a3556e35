import { z } from 'zod';
import type { KnowledgeService } from '../../core/knowledge/knowledge.service.ts';
import { presentCollection } from '../../core/knowledge/knowledge.presenter.ts';
import { byCreation, creationKey } from '../../core/pagination/cursor.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, page, pageQuery, query, text, uuidParam } from '../validate.ts';

export const createSchema = z.strictObject({
  name: text(200),
  description: z.string().trim().max(2000).optional(),
  readers: z.enum(['everyone', 'groups']).optional(),
  groups: z.array(z.uuid()).max(200).optional(),
});
export const updateSchema = createSchema.partial();
export const readersSchema = createSchema.pick({ readers: true, groups: true });

/** Knowledge bases: admins manage them and who may read them; readers list the ones they may read. */
export function collectionRoutes(r: SecureRouter, knowledge: KnowledgeService) {
  r.post('/api/collections', 'admin', async (req, res) => {
    const collection = await knowledge.createCollection(actorOf(req), body(createSchema, req), clientOf(req));
    res.status(201).json({ collection: presentCollection(collection) });
  });

  r.get('/api/collections', 'user', async (req, res) => {
    const q = query(pageQuery, req);
    const after = byCreation.decode(q.cursor);
    const rows = await knowledge.listCollections(actorOf(req), { after, limit: q.limit + 1 });
    res.json(page(rows, q.limit, presentCollection, (c) => byCreation.encode(creationKey(c))));
  });

  r.get('/api/collections/:id', 'user', async (req, res) => {
    res.json({ collection: presentCollection(await knowledge.getCollection(actorOf(req), uuidParam(req))) });
  });

  r.patch('/api/collections/:id', 'admin', async (req, res) => {
    const collection = await knowledge.updateCollection(
      actorOf(req),
      uuidParam(req),
      body(updateSchema, req),
      clientOf(req),
    );
    res.json({ collection: presentCollection(collection) });
  });

  r.post('/api/collections/:id/readers/preview', 'admin', async (req, res) => {
    res.json({ change: await knowledge.previewReaders(uuidParam(req), body(readersSchema, req)) });
  });

  r.delete('/api/collections/:id', 'admin', async (req, res) => {
    await knowledge.deleteCollection(actorOf(req), uuidParam(req), clientOf(req));
    res.status(204).end();
  });
}
