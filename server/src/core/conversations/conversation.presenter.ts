import type { Citation } from '../bots/grounding.ts';
import type { ConversationRatingRow } from './conversation-rating.repository.ts';
import type { ConversationEventRow, ConversationRow, MemberRow } from './conversation.repository.ts';
import type { CustomerCard } from './customer-card.service.ts';
import type { MessageRow } from './message.repository.ts';

/** A message as the REST API and the WebSocket show it (the web app imports this type). */
export function presentMessage(m: MessageRow) {
  return {
    id: m.id,
    conversationId: m.conversation_id,
    senderType: m.sender_type,
    senderId: m.sender_id,
    senderName: m.sender_name,
    body: m.body,
    // Only the answerer writes citations, and it writes grounding's Citation objects.
    citations: m.citations as Citation[],
    attachments: m.attachments,
    status: m.status,
    clientId: m.client_id,
    internal: m.internal,
    createdAt: m.created_at.toISOString(),
    editedAt: m.edited_at?.toISOString() ?? null,
    deletedAt: m.deleted_at?.toISOString() ?? null,
    // The number of its latest change: a client keeps the newest state, and resumes after the newest it has.
    updatedSeq: m.updated_seq,
    // Bot messages: what came of the question, and whether the UI should offer a person.
    ...(m.sender_type === 'bot'
      ? { outcome: (m.meta?.outcome as string | undefined) ?? null, handoffOffered: m.meta?.handoffOffered === true }
      : {}),
  };
}

export type PresentedMessage = ReturnType<typeof presentMessage>;

export interface ConversationExtras {
  members?: MemberRow[];
  unreadCount?: number;
  lastReadMessageId?: number;
  queuePosition?: number | undefined;
  estimatedWaitSeconds?: number | undefined;
}

export function presentConversation(c: ConversationRow, extras: ConversationExtras = {}) {
  return {
    id: c.id,
    kind: c.kind,
    botId: c.bot_id,
    title: c.title,
    status: c.status,
    assigneeId: c.assignee_id,
    team: c.team,
    priority: c.priority,
    handoffReason: c.handoff_reason,
    createdBy: c.created_by,
    createdAt: c.created_at.toISOString(),
    lastMessageAt: c.last_message_at.toISOString(),
    queuedAt: c.queued_at?.toISOString() ?? null,
    claimedAt: c.claimed_at?.toISOString() ?? null,
    firstResponseAt: c.first_response_at?.toISOString() ?? null,
    resolvedAt: c.resolved_at?.toISOString() ?? null,
    ...(extras.members ? { members: extras.members.map((m) => ({ id: m.user_id, name: m.name, role: m.role })) } : {}),
    ...(extras.unreadCount !== undefined ? { unreadCount: extras.unreadCount } : {}),
    ...(extras.lastReadMessageId !== undefined ? { lastReadMessageId: extras.lastReadMessageId } : {}),
    ...(extras.queuePosition !== undefined ? { queuePosition: extras.queuePosition } : {}),
    ...(extras.estimatedWaitSeconds !== undefined ? { estimatedWaitSeconds: extras.estimatedWaitSeconds } : {}),
  };
}

export type PresentedConversation = ReturnType<typeof presentConversation>;

/** One step of a conversation's history, as agents see it (the web app imports this type). */
export function presentConversationEvent(e: ConversationEventRow) {
  return {
    id: e.id,
    type: e.type,
    from: e.from_status,
    to: e.to_status,
    actorId: e.actor_id,
    actorName: e.actor_name,
    assigneeName: e.assignee_name,
    reason: e.reason,
    details: e.details,
    createdAt: e.created_at.toISOString(),
  };
}

export type PresentedConversationEvent = ReturnType<typeof presentConversationEvent>;

/** The customer card: what an agent needs of the employee, and their earlier conversations. */
export function presentCustomerCard(card: CustomerCard) {
  return {
    id: card.customer.id,
    name: card.customer.name,
    email: card.customer.email,
    groups: card.groups,
    conversations: card.earlier.map((c) => ({
      id: c.id,
      kind: c.kind,
      botId: c.bot_id,
      title: c.title,
      status: c.status,
      lastMessageAt: c.last_message_at.toISOString(),
    })),
  };
}

export type PresentedCustomerCard = ReturnType<typeof presentCustomerCard>;

/** An employee's satisfaction rating of a conversation (the web app imports this type). */
export function presentConversationRating(r: ConversationRatingRow) {
  return {
    conversationId: r.conversation_id,
    rating: r.rating,
    comment: r.comment,
    updatedAt: r.updated_at.toISOString(),
  };
}

export type PresentedConversationRating = ReturnType<typeof presentConversationRating>;
