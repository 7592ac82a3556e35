import type { ConversationEvent } from '../core/conversations/conversation-events.ts';
import type { PresentedConversation } from '../core/conversations/conversation.presenter.ts';
import type { DeliveredFrame } from '../core/realtime/frames.ts';
import type { Role } from '../core/users/user.repository.ts';

/** A frame and who gets it: these users, and everyone with one of these roles. */
export interface Delivery {
  userIds: string[];
  roles?: Role[];
  frame: DeliveredFrame;
}

/** Agents and admins watch the queue: they hear of every conversation entering, moving in or leaving it. */
const QUEUE_WATCHERS: Role[] = ['agent', 'admin'];

const updated = (conversation: PresentedConversation): DeliveredFrame => ({
  type: 'conversation.updated',
  conversation,
});

type MessageEvent = Extract<ConversationEvent, { type: 'message.created' | 'message.updated' | 'message.completed' }>;

/** A message to its readers: each sees only the citations they may open (one frame per distinct set). */
function messageDeliveries(event: MessageEvent): Delivery[] {
  const { type, message, citationsFor = {} } = event;
  const everything = event.readerIds.filter((id) => !(id in citationsFor));
  const deliveries: Delivery[] = everything.length ? [{ userIds: everything, frame: { type, message } }] : [];
  const bySet = new Map<string, string[]>();
  for (const [userId, chunkIds] of Object.entries(citationsFor)) {
    if (!event.readerIds.includes(userId)) continue;
    const key = JSON.stringify(chunkIds);
    bySet.set(key, [...(bySet.get(key) ?? []), userId]);
  }
  for (const [key, userIds] of bySet) {
    const allowed = new Set(JSON.parse(key) as string[]);
    const citations = message.citations.filter((c) => allowed.has(c.chunkId));
    deliveries.push({ userIds, frame: { type, message: { ...message, citations } } });
  }
  return deliveries;
}

/** The WebSocket frames (the contract in core/realtime/frames.ts) that tell the people concerned of a conversation event. */
export function conversationFrames(event: ConversationEvent): Delivery[] {
  switch (event.type) {
    case 'conversation.created':
      return [
        {
          userIds: event.memberIds,
          ...(event.status === 'queued' ? { roles: QUEUE_WATCHERS } : {}),
          frame: updated(event.view),
        },
      ];
    case 'conversation.status-changed':
      return [{ userIds: event.memberIds, roles: QUEUE_WATCHERS, frame: updated(event.view) }];
    case 'conversation.renamed':
      return [{ userIds: event.memberIds, frame: updated(event.view) }];
    case 'queue.moved':
      return event.waiting.map((w) => ({ userIds: w.memberIds, frame: updated(w.view) }));
    case 'message.created':
    case 'message.updated':
    case 'message.completed':
      return messageDeliveries(event);
    case 'message.delta': {
      const { conversationId, messageId, delta } = event;
      return [{ userIds: event.memberIds, frame: { type: 'message.delta', conversationId, messageId, delta } }];
    }
    case 'member.typing': {
      const { conversationId, userId } = event;
      const others = event.memberIds.filter((id) => id !== userId);
      return [{ userIds: others, frame: { type: 'typing', conversationId, userId } }];
    }
    case 'messages.read': {
      const { conversationId, userId, messageId } = event;
      return [{ userIds: event.memberIds, frame: { type: 'read', conversationId, userId, messageId } }];
    }
  }
}
