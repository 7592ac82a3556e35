import { z } from 'zod';
import type { PeopleService } from '../../core/users/people.service.ts';
import { actorOf, type SecureRouter } from '../secure-router.ts';
import { query } from '../validate.ts';

export const peopleQuery = z.object({
  q: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

/** Directories for starting chats and transfers: colleagues for everyone, agents for agents. */
export function peopleRoutes(r: SecureRouter, people: PeopleService) {
  r.get('/api/people', 'user', async (req, res) => {
    const q = query(peopleQuery, req);
    const rows = await people.colleagues(actorOf(req), q.q, q.limit);
    res.json({ items: rows, next: null });
  });

  // Agents pick a colleague to transfer to: a name and whether they take conversations now, nothing
  // more about them (their email, skills and load are for admins, through /api/users).
  r.get('/api/agents', 'agent', async (_req, res) => {
    const rows = await people.agents();
    res.json({ items: rows, next: null });
  });

  // The console's presence switch starts from what the server holds (away survives a reload).
  r.get('/api/agents/me', 'agent', async (req, res) => {
    res.json({ agent: await people.me(actorOf(req)) });
  });
}
