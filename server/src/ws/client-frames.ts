import { z } from 'zod';

/** What a client may send over the socket (the WebSocket contract: see core/realtime/frames.ts for what the server sends). */
export const clientFrame = z.discriminatedUnion('type', [
  // `internal`: the typist writes an internal note; the server tells only the staff among the members.
  z.object({ type: z.literal('typing'), conversationId: z.uuid(), internal: z.boolean().optional() }),
  z.object({ type: z.literal('read'), conversationId: z.uuid(), messageId: z.number().int().positive() }),
  // `since`: the newest change number the client has (a message's updatedSeq); default `after`.
  z.object({ type: z.literal('resume'), after: z.number().int().min(0), since: z.number().int().min(0).optional() }),
  // Nothing to resume (a fresh page that loads its state over HTTP): live frames may flow at once.
  z.object({ type: z.literal('live') }),
  z.object({ type: z.literal('ping') }),
]);

export type ClientFrame = z.infer<typeof clientFrame>;
