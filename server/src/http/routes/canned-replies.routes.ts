import { z } from 'zod';
import { presentCannedReply } from '../../core/canned-replies/canned-reply.presenter.ts';
import type { CannedReplyService } from '../../core/canned-replies/canned-reply.service.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, uuidParam } from '../validate.ts';

// What follows the `/` in the composer: letters and digits of any script, `-` and `_`.
const shortcut = z
  .string()
  .trim()
  .regex(/^[\p{L}\p{N}_-]{1,40}$/u, 'letters, digits, - and _ only (up to 40)');
const replyBody = z
  .string()
  .trim()
  .min(1)
  .max(4000)
  .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');

export const cannedReplySchema = z.strictObject({ shortcut, body: replyBody, shared: z.boolean().default(false) });
export const cannedReplyPatchSchema = z
  .strictObject({ shortcut: shortcut.optional(), body: replyBody.optional() })
  .refine((p) => p.shortcut !== undefined || p.body !== undefined, 'Change the shortcut or the body');

/** Canned replies for the agent console: shared (admins write them) and each agent's own. */
export function cannedReplyRoutes(r: SecureRouter, cannedReplies: CannedReplyService) {
  r.get('/api/canned-replies', 'agent', async (req, res) => {
    const rows = await cannedReplies.list(actorOf(req));
    res.json({ items: rows.map(presentCannedReply), next: null });
  });

  r.post('/api/canned-replies', 'agent', async (req, res) => {
    const row = await cannedReplies.create(actorOf(req), body(cannedReplySchema, req), clientOf(req).ip);
    res.status(201).json({ cannedReply: presentCannedReply(row) });
  });

  r.patch('/api/canned-replies/:id', 'agent', async (req, res) => {
    const patch = body(cannedReplyPatchSchema, req);
    const row = await cannedReplies.update(actorOf(req), uuidParam(req), patch, clientOf(req).ip);
    res.json({ cannedReply: presentCannedReply(row) });
  });

  r.delete('/api/canned-replies/:id', 'agent', async (req, res) => {
    await cannedReplies.remove(actorOf(req), uuidParam(req), clientOf(req).ip);
    res.status(204).end();
  });
}
