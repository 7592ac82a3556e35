import type { Queryable } from '../db/database.ts';
import type { Audience, RealtimeBus } from '../realtime/bus.ts';
import { createConversationRepository, type ConversationRow, type MemberRow } from './conversation.repository.ts';
import { presentConversation, presentMessage } from './conversation.presenter.ts';
import type { MessageRow } from './message.repository.ts';

const STAFF = new Set(['agent', 'admin']);
/** How many waiting conversations hear of their new place when the queue moves. */
const QUEUE_POSITIONS_PUBLISHED = 100;

/**
 * Turns conversation changes into WebSocket frames for exactly the people concerned: members (and
 * for internal notes only the staff among them); agents as a role for conversations in the human
 * queue. Call after the change has committed.
 */
export function createConversationPublisher(db: Queryable, bus: Pick<RealtimeBus, 'publish'>) {
  const conversations = createConversationRepository(db);

  /** Tells the members of the first waiting conversations (not `except`) their place in line and the expected wait. */
  async function queuePositions(except?: string): Promise<void> {
    const waiting = await conversations.queueWithPositions(QUEUE_POSITIONS_PUBLISHED);
    const others = waiting.filter((c) => c.id !== except);
    if (!others.length) return;
    const [members, median] = await Promise.all([
      conversations.membersOf(others.map((c) => c.id)),
      conversations.medianRecentWaitSeconds(),
    ]);
    for (const c of others) {
      const own = members.filter((m) => m.conversation_id === c.id);
      if (!own.length) continue;
      const estimatedWaitSeconds = median !== undefined ? Math.round(median * c.position) : undefined;
      await bus.publish({
        type: 'deliver',
        audience: { userIds: own.map((m) => m.user_id) },
        frame: {
          type: 'conversation.updated',
          conversation: presentConversation(c, { members: own, queuePosition: c.position, estimatedWaitSeconds }),
        },
      });
    }
  }

  return {
    /** `members`: the conversation's members when the caller has just read them (a post does, under the row lock). */
    async message(type: 'message.created' | 'message.updated' | 'message.completed', message: MessageRow, members?: MemberRow[]): Promise<void> {
      members ??= await conversations.members(message.conversation_id);
      const userIds = members.filter((m) => !message.internal || STAFF.has(m.user_role)).map((m) => m.user_id);
      await bus.publish({ type: 'deliver', audience: { userIds }, frame: { type, message: presentMessage(message) } });
    },

    /**
     * `queueChanged`: it entered, left or moved in the queue, so every agent's queue view updates —
     * and the employees still waiting hear their new place in line.
     */
    async conversation(conversation: ConversationRow, queueChanged: boolean): Promise<void> {
      const members = await conversations.members(conversation.id);
      const queuePosition = conversation.status === 'queued' ? await conversations.queuePosition(conversation.id) : undefined;
      const audience: Audience = { userIds: members.map((m) => m.user_id) };
      if (queueChanged) audience.roles = ['agent', 'admin'];
      await bus.publish({
        type: 'deliver',
        audience,
        frame: { type: 'conversation.updated', conversation: presentConversation(conversation, { members, queuePosition }) },
      });
      if (queueChanged) await queuePositions(conversation.id);
    },

    queuePositions,

    async typing(conversationId: string, userId: string): Promise<void> {
      const members = await conversations.members(conversationId);
      const userIds = members.map((m) => m.user_id).filter((id) => id !== userId);
      await bus.publish({ type: 'deliver', audience: { userIds }, frame: { type: 'typing', conversationId, userId } });
    },

    async read(conversationId: string, userId: string, messageId: number): Promise<void> {
      const members = await conversations.members(conversationId);
      await bus.publish({
        type: 'deliver',
        audience: { userIds: members.map((m) => m.user_id) },
        frame: { type: 'read', conversationId, userId, messageId },
      });
    },
  };
}

export type ConversationPublisher = ReturnType<typeof createConversationPublisher>;
