import { z } from 'zod';
import { byText } from '../../core/pagination/cursor.ts';
import { presentGroup } from '../../core/users/group.presenter.ts';
import type { UserService } from '../../core/users/user.service.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, page, pageQuery, query, text, uuidParam } from '../validate.ts';

export const createSchema = z.strictObject({ name: text(100), description: z.string().trim().max(1000).optional() });
export const updateSchema = createSchema.partial();
/** What becomes of the collections, documents and bots a deleted group grants access to. */
export const deleteQuery = z.object({ onDependents: z.enum(['refuse', 'restrict-to-admins']).default('refuse') });
export const listQuery = pageQuery.extend({ q: z.string().max(200).optional() });

/** Departments and teams: who belongs where decides what knowledge they may read. */
export function groupRoutes(r: SecureRouter, users: UserService) {
  r.post('/api/groups', 'admin', async (req, res) => {
    const group = await users.createGroup(actorOf(req), body(createSchema, req), clientOf(req));
    res.status(201).json({ group: presentGroup(group) });
  });

  r.get('/api/groups', 'admin', async (req, res) => {
    const q = query(listQuery, req);
    const rows = await users.listGroups({ query: q.q, after: byText.decode(q.cursor), limit: q.limit + 1 });
    res.json(page(rows, q.limit, presentGroup, (g) => byText.encode([g.name])));
  });

  r.get('/api/groups/:id', 'admin', async (req, res) => {
    const id = uuidParam(req);
    const [group, members] = await Promise.all([users.getGroup(id), users.groupMembers(id)]);
    res.json({ group: { ...presentGroup(group), members } });
  });

  r.patch('/api/groups/:id', 'admin', async (req, res) => {
    const group = await users.updateGroup(actorOf(req), uuidParam(req), body(updateSchema, req), clientOf(req));
    res.json({ group: presentGroup(group) });
  });

  r.delete('/api/groups/:id', 'admin', async (req, res) => {
    const { onDependents } = query(deleteQuery, req);
    await users.deleteGroup(actorOf(req), uuidParam(req), onDependents, clientOf(req));
    res.status(204).end();
  });

  r.put('/api/groups/:id/members/:userId', 'admin', async (req, res) => {
    await users.setMembership(actorOf(req), uuidParam(req), uuidParam(req, 'userId'), true, clientOf(req));
    res.status(204).end();
  });

  r.delete('/api/groups/:id/members/:userId', 'admin', async (req, res) => {
    await users.setMembership(actorOf(req), uuidParam(req), uuidParam(req, 'userId'), false, clientOf(req));
    res.status(204).end();
  });
}
