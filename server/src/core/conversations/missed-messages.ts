import type { Queryable } from '../db/database.ts';
import type { Actor } from '../policy/actor.ts';
import { maySeeInternalNotes } from '../policy/policy.ts';
import { citationsReadableBy } from './message-citations.ts';
import { createMessageRepository, type MessageRow } from './message.repository.ts';

/**
 * How far before a client's newest change a resume looks again. Two messages' commits (and more
 * so their live events, over Redis) can land out of id order; a client that dropped between them
 * holds the newer one and not the older. Those changes are a few milliseconds apart, a loaded
 * machine stretches that to a second or two.
 */
export const RESUME_OVERLAP_MS = 5000;

/**
 * What a reconnecting socket missed, as its user may see it (internal notes for staff, citations
 * they may open), read page by page by the gateway's resume.
 */
export function createMissedMessages(db: Queryable) {
  const messages = createMessageRepository(db);
  return {
    /** Messages after `after` (id order). */
    async created(actor: Actor, after: number, limit: number): Promise<MessageRow[]> {
      const rows = await messages.missedBy(actor.id, after, maySeeInternalNotes(actor), limit);
      return citationsReadableBy(db, actor.id, rows);
    },
    /**
     * Messages up to `upToId` that changed after change `since`, or shortly before it (see
     * RESUME_OVERLAP_MS), in change order after `cursor`: their current state.
     */
    async changed(
      actor: Actor,
      q: { upToId: number; since: number; cursor: number; limit: number },
    ): Promise<MessageRow[]> {
      const rows = await messages.changedFor(actor.id, {
        ...q,
        overlapMs: RESUME_OVERLAP_MS,
        includeInternal: maySeeInternalNotes(actor),
      });
      return citationsReadableBy(db, actor.id, rows);
    },
  };
}
