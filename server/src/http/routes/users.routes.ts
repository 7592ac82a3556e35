import { z } from 'zod';
import { byText } from '../../core/pagination/cursor.ts';
import { presentUser } from '../../core/users/user.presenter.ts';
import { ROLES } from '../../core/users/user.repository.ts';
import type { UserService } from '../../core/users/user.service.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, page, pageQuery, query, text, uuidParam } from '../validate.ts';

const role = z.enum(ROLES);
const skills = z.array(text(50)).max(50);

export const createSchema = z.strictObject({
  email: z.email().max(320),
  name: text(200),
  password: z.string().max(1024),
  role: role.default('employee'),
  groups: z.array(z.uuid()).max(200).optional(),
  skills: skills.optional(),
  capacity: z.number().int().min(0).max(100).optional(),
});

export const updateSchema = z
  .strictObject({
    email: z.email().max(320),
    name: text(200),
    password: z.string().max(1024),
    role,
    disabled: z.boolean(),
    groups: z.array(z.uuid()).max(200),
    skills,
    capacity: z.number().int().min(0).max(100),
  })
  .partial();

export const listQuery = pageQuery.extend({ q: z.string().max(200).optional(), role: role.optional() });

/** Admin management of people: create, list (paged, searchable), read, update, disable, reset passwords. */
export function userRoutes(r: SecureRouter, users: UserService) {
  r.post('/api/users', 'admin', async (req, res) => {
    const user = await users.create(actorOf(req), body(createSchema, req), clientOf(req));
    res.status(201).json({ user: presentUser(user) });
  });

  r.get('/api/users', 'admin', async (req, res) => {
    const q = query(listQuery, req);
    const rows = await users.list({ query: q.q, role: q.role, after: byText.decode(q.cursor), limit: q.limit + 1 });
    res.json(page(rows, q.limit, presentUser, (u) => byText.encode([u.email])));
  });

  r.get('/api/users/:id', 'admin', async (req, res) => {
    res.json({ user: presentUser(await users.get(uuidParam(req))) });
  });

  r.patch('/api/users/:id', 'admin', async (req, res) => {
    const user = await users.update(actorOf(req), uuidParam(req), body(updateSchema, req), clientOf(req));
    res.json({ user: presentUser(user) });
  });
}
