import type { Request } from 'express';
import { z } from 'zod';
import type { Actor } from '../../core/policy/actor.ts';
import {
  presentConversation,
  presentConversationEvent,
  presentCustomerCard,
  presentConversationRating,
  presentMessage,
} from '../../core/conversations/conversation.presenter.ts';
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../core/conversations/attachment-type.ts';
import type { ConversationListRow } from '../../core/conversations/conversation.repository.ts';
import type { ConversationService } from '../../core/conversations/conversation.service.ts';
import type { CustomerCardService } from '../../core/conversations/customer-card.service.ts';
import type { RoutingService } from '../../core/conversations/routing.service.ts';
import { REASONS } from '../../core/conversations/routing.ts';
import { defineCursor, keyPart } from '../../core/pagination/cursor.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, messageIdParam, query, text, uuidParam } from '../validate.ts';

export const createSchema = z.union([
  z.strictObject({ botId: z.uuid(), kind: z.literal('bot').optional() }),
  z.strictObject({ kind: z.literal('support'), team: text(50).optional() }),
  z.strictObject({ kind: z.literal('direct'), userId: z.uuid() }),
  z.strictObject({ kind: z.literal('group'), title: text(200), memberIds: z.array(z.uuid()).min(1).max(500) }),
]);

export const listQuery = z.object({
  status: z.enum(['bot', 'queued', 'assigned', 'resolved']).optional(),
  assignee: z.union([z.literal('me'), z.uuid()]).optional(),
  kind: z.enum(['bot', 'support', 'direct', 'group']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

export const historyQuery = z.object({
  before: z.coerce.number().int().positive().optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// Message bodies: up to 32k characters; NUL is the one control character Postgres text refuses.
const messageBody = z
  .string()
  .max(32_000)
  .refine((b) => !b.includes('\u0000'), 'must not contain NUL characters');

export const postSchema = z
  .strictObject({
    body: messageBody,
    clientId: z.string().min(1).max(100).optional(),
    internal: z.boolean().optional(),
    attachmentIds: z.array(z.uuid()).max(MAX_ATTACHMENTS_PER_MESSAGE).optional(),
  })
  .refine((m) => m.body.trim() !== '' || (m.attachmentIds?.length ?? 0) > 0, 'A message needs text or an attachment');

export const handoffSchema = z.strictObject({ reason: z.enum(REASONS).optional() });
export const transferSchema = z.strictObject({ agentId: z.uuid().optional(), team: text(50).optional() });
export const readSchema = z.strictObject({ messageId: z.number().int().positive() });
export const editSchema = z.strictObject({ body: messageBody.min(1) });
export const ratingSchema = z.strictObject({
  rating: z.number().int().min(1).max(5),
  comment: z.string().trim().max(2000).optional(),
});
export const availabilitySchema = z.strictObject({ available: z.boolean() });

/** Keyset cursors: by last activity `[activity_key, id]`, or in queue order `['q', priority, queued_key, id]`. */
const byActivityOrQueue = defineCursor(
  z.union([
    z.tuple([keyPart.timestamp, keyPart.uuid]).transform(([at, id]) => ({ kind: 'activity' as const, at, id })),
    z
      .tuple([z.literal('q'), keyPart.int, keyPart.timestamp, keyPart.uuid])
      .transform(([, priority, queuedAt, id]) => ({ kind: 'queue' as const, priority, queuedAt, id })),
  ]),
);

function encodeCursor(row: ConversationListRow, queueOrder: boolean): string {
  return byActivityOrQueue.encode(
    queueOrder ? ['q', row.priority, row.queued_key ?? '', row.id] : [row.activity_key, row.id],
  );
}

/** Conversations: create, list, read history, post, and move between bot and people. */
export function conversationRoutes(
  r: SecureRouter,
  deps: { conversations: ConversationService; routing: RoutingService; customerCards: CustomerCardService },
) {
  const { conversations, routing, customerCards } = deps;

  const present = (id: string) => conversations.view(id);

  r.post('/api/conversations', 'user', async (req, res) => {
    const input = body(createSchema, req);
    const { conversation, created } = await conversations.create(
      actorOf(req),
      'botId' in input ? { kind: 'bot', botId: input.botId } : input,
    );
    res.status(created ? 201 : 200).json({ conversation: await present(conversation.id) });
  });

  r.get('/api/conversations', 'user', async (req, res) => {
    const q = query(listQuery, req);
    // The queue (status=queued) comes in queue order: priority, then waiting time.
    const queueOrder = q.status === 'queued';
    const cursor = byActivityOrQueue.decode(q.cursor);
    const rows = await conversations.list(actorOf(req), {
      ...q,
      before: cursor?.kind === 'activity' ? cursor : undefined,
      afterInQueue: cursor?.kind === 'queue' ? cursor : undefined,
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    res.json({
      items: items.map((c) =>
        presentConversation(c, { unreadCount: c.unread_count, lastReadMessageId: c.last_read_message_id }),
      ),
      next: rows.length > q.limit && last ? encodeCursor(last, queueOrder) : null,
    });
  });

  r.get('/api/conversations/:id', 'user', async (req, res) => {
    const id = uuidParam(req);
    await conversations.readable(actorOf(req), id);
    res.json({ conversation: await present(id) });
  });

  r.get('/api/conversations/:id/messages', 'user', async (req, res) => {
    const q = query(historyQuery, req);
    const rows = await conversations.history(actorOf(req), uuidParam(req), q);
    res.json({ items: rows.map(presentMessage), next: null });
  });

  r.post('/api/conversations/:id/messages', 'user', async (req, res) => {
    const { message } = await conversations.post(actorOf(req), uuidParam(req), body(postSchema, req));
    // A resend with the same clientId answers with the original message, as the first send did.
    res.status(201).json({ message: presentMessage(message) });
  });

  r.post('/api/conversations/:id/read', 'user', async (req, res) => {
    await conversations.markRead(actorOf(req), uuidParam(req), body(readSchema, req).messageId);
    res.status(204).end();
  });

  r.post('/api/conversations/:id/handoff', 'user', async (req, res) => {
    const id = uuidParam(req);
    await conversations.requestHandoff(actorOf(req), id, body(handoffSchema, req).reason);
    res.json({ conversation: await present(id) });
  });

  r.post('/api/conversations/:id/stop', 'user', async (req, res) => {
    await conversations.stopAnswer(actorOf(req), uuidParam(req));
    res.status(202).end();
  });

  r.put('/api/conversations/:id/rating', 'user', async (req, res) => {
    const rating = await conversations.rate(actorOf(req), uuidParam(req), body(ratingSchema, req));
    res.json({ rating: presentConversationRating(rating) });
  });

  r.get('/api/conversations/:id/rating', 'user', async (req, res) => {
    const rating = await conversations.ratingOf(actorOf(req), uuidParam(req));
    res.json({ rating: rating ? presentConversationRating(rating) : null });
  });

  /** An agent's move: the conversation must be readable to them; the routing service checks the rest. */
  const agentAction = (path: string, act: (req: Request, actor: Actor, id: string) => Promise<unknown>) =>
    r.post(path, 'agent', async (req, res) => {
      const id = uuidParam(req);
      await conversations.readable(actorOf(req), id);
      await act(req, actorOf(req), id);
      res.json({ conversation: await present(id) });
    });

  agentAction('/api/conversations/:id/claim', (_req, actor, id) => routing.claim(actor, id));
  agentAction('/api/conversations/:id/transfer', (req, actor, id) =>
    routing.transfer(actor, id, body(transferSchema, req)),
  );
  agentAction('/api/conversations/:id/resolve', (_req, actor, id) => routing.resolve(actor, id));
  agentAction('/api/conversations/:id/return-to-bot', (_req, actor, id) => routing.returnToBot(actor, id));

  r.get('/api/conversations/:id/events', 'agent', async (req, res) => {
    const id = uuidParam(req);
    await conversations.readable(actorOf(req), id);
    const events = await conversations.events(id);
    res.json({
      items: events.map(presentConversationEvent),
      next: null,
    });
  });

  // The employee behind a conversation, for the agent helping them: no more than the card shows.
  r.get('/api/conversations/:id/customer', 'agent', async (req, res) => {
    const id = uuidParam(req);
    await conversations.readable(actorOf(req), id);
    res.json({ customer: presentCustomerCard(await customerCards.of(actorOf(req), id)) });
  });

  r.patch('/api/messages/:id', 'user', async (req, res) => {
    const id = messageIdParam(req);
    const message = await conversations.edit(actorOf(req), id, body(editSchema, req).body, clientOf(req).ip);
    res.json({ message: presentMessage(message) });
  });

  r.delete('/api/messages/:id', 'user', async (req, res) => {
    const id = messageIdParam(req);
    await conversations.remove(actorOf(req), id, clientOf(req).ip);
    res.status(204).end();
  });

  r.patch('/api/agents/me', 'agent', async (req, res) => {
    const { available } = body(availabilitySchema, req);
    await routing.setAvailable(actorOf(req), available);
    res.json({ available });
  });
}
