import type { Queryable } from '../db/database.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import type { ConversationEvent } from './conversation-events.ts';
import { createConversationRepository, type ConversationRow, type MemberRow } from './conversation.repository.ts';
import { presentConversation, presentMessage } from './conversation.presenter.ts';
import { citationsPerReader } from './message-citations.ts';
import type { MessageRow } from './message.repository.ts';
import type { Reason, RoutingStatus, TransitionType } from './routing.ts';

const STAFF = new Set(['agent', 'admin']);
/** How many waiting conversations hear of their new place when the queue moves. */
const QUEUE_POSITIONS_PUBLISHED = 100;

/** A routing transition that has committed: the conversation as it now is, and how it got there. */
export interface Routed {
  conversation: ConversationRow;
  transition: TransitionType;
  from: RoutingStatus;
  reason: Reason;
}

type MessageEventType = Extract<ConversationEvent['type'], 'message.created' | 'message.updated' | 'message.completed'>;

/**
 * Emits conversation events (conversation-events.ts) on the realtime bus, with what their
 * subscribers need gathered once here: the members, and for the queue the places in line and the
 * expected wait. Call after the change has committed.
 */
export function createConversationPublisher(db: Queryable, bus: Pick<RealtimeBus, 'publish'>) {
  const conversations = createConversationRepository(db);
  const emit = (event: ConversationEvent) => bus.publish(event);
  const idsOf = (members: MemberRow[]) => members.map((m) => m.user_id);

  /** The first waiting conversations (not `except`) with their place in line and the expected wait. */
  async function queueMoved(except: string): Promise<void> {
    const waiting = (await conversations.queueWithPositions(QUEUE_POSITIONS_PUBLISHED)).filter((c) => c.id !== except);
    if (!waiting.length) return;
    const [members, median] = await Promise.all([
      conversations.membersOf(waiting.map((c) => c.id)),
      conversations.medianRecentWaitSeconds(),
    ]);
    const entries = waiting.flatMap((c) => {
      const own = members.filter((m) => m.conversation_id === c.id);
      if (!own.length) return [];
      const estimatedWaitSeconds = median !== undefined ? Math.round(median * c.position) : undefined;
      const view = presentConversation(c, { members: own, queuePosition: c.position, estimatedWaitSeconds });
      return [{ conversationId: c.id, memberIds: idsOf(own), view }];
    });
    if (entries.length) await emit({ type: 'queue.moved', waiting: entries });
  }

  /** The conversation as its members see it now, and who they are. */
  async function snapshot(conversation: ConversationRow) {
    const members = await conversations.members(conversation.id);
    const queued = conversation.status === 'queued';
    const queuePosition = queued ? await conversations.queuePosition(conversation.id) : undefined;
    return { memberIds: idsOf(members), view: presentConversation(conversation, { members, queuePosition }) };
  }

  return {
    /** `members`: the conversation's members when the caller has just read them (a post does, under the row lock). */
    async message(type: MessageEventType, message: MessageRow, members?: MemberRow[]): Promise<void> {
      members ??= await conversations.members(message.conversation_id);
      const readerIds = idsOf(members.filter((m) => !message.internal || STAFF.has(m.user_role)));
      const { conversation_id: conversationId, id: messageId } = message;
      const citationsFor = await citationsPerReader(db, readerIds, message);
      await emit({
        type,
        conversationId,
        messageId,
        readerIds,
        message: presentMessage(message),
        ...(citationsFor ? { citationsFor } : {}),
      });
    },

    async created(conversation: ConversationRow): Promise<void> {
      const { status, id } = conversation;
      await emit({ type: 'conversation.created', conversationId: id, status, ...(await snapshot(conversation)) });
      if (status === 'queued') await queueMoved(id);
    },

    /** A transition into or out of the queue moves it: the employees still waiting hear their new place. */
    async routed({ conversation, transition, from, reason }: Routed): Promise<void> {
      const { id, status } = conversation;
      await emit({
        type: 'conversation.status-changed',
        conversationId: id,
        transition,
        from,
        to: status!,
        reason,
        ...(await snapshot(conversation)),
      });
      if (from === 'queued' || status === 'queued') await queueMoved(id);
    },

    /** A member asked to stop the bot's answer (the answerer of whichever process streams it listens). */
    async stopRequested(conversationId: string): Promise<void> {
      await bus.publish({ type: 'answer.stop-requested', conversationId });
    },

    /** The conversation's title changed (a model wrote a short one): its members' lists show it. */
    async renamed(conversation: ConversationRow): Promise<void> {
      await emit({ type: 'conversation.renamed', conversationId: conversation.id, ...(await snapshot(conversation)) });
    },

    async delta(conversationId: string, messageId: number, delta: string, memberIds: string[]): Promise<void> {
      await emit({ type: 'message.delta', conversationId, messageId, delta, memberIds });
    },

    /**
     * `members`: read by the caller, who checked that `userId` is one of them. Typing an internal
     * note is heard by the staff only, as the note itself is read by them only.
     */
    async typing(conversationId: string, userId: string, members: MemberRow[], internal: boolean): Promise<void> {
      const audience = members.filter((m) => !internal || STAFF.has(m.user_role));
      await emit({ type: 'member.typing', conversationId, userId, memberIds: idsOf(audience) });
    },

    async read(conversationId: string, userId: string, messageId: number, members: MemberRow[]): Promise<void> {
      const memberIds = idsOf(members);
      await emit({ type: 'messages.read', conversationId, userId, messageId, memberIds });
    },
  };
}

export type ConversationPublisher = ReturnType<typeof createConversationPublisher>;
