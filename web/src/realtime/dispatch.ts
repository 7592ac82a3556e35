import { useConversationsStore } from '../stores/conversations';
import { useKnowledgeStore } from '../stores/knowledge';
import { useRealtimeStore } from '../stores/realtime';
import type { ServerFrame } from './frames';

/**
 * The one place where realtime event names become store updates. Every frame the server sends
 * is handled here, so what the socket can change is visible at a glance.
 */
export function dispatch(frame: ServerFrame): void {
  const conversations = useConversationsStore();
  switch (frame.type) {
    case 'message.created':
    case 'message.updated':
    case 'message.completed':
      conversations.applyMessage(frame.message);
      break;
    case 'message.delta':
      conversations.applyDelta(frame);
      break;
    case 'conversation.updated':
      conversations.applyConversation(frame.conversation);
      break;
    case 'typing':
      conversations.applyTyping(frame.conversationId, frame.userId);
      break;
    case 'read':
      conversations.applyRead(frame.conversationId, frame.userId, frame.messageId);
      break;
    case 'document.updated':
      useKnowledgeStore().applyDocument(frame.document);
      break;
    case 'resume.done':
      conversations.noteSeen(frame.last, frame.seq);
      break;
    case 'error':
      console.warn('realtime error', frame.code, frame.message);
      break;
    case 'pong':
      break;
  }
}

/**
 * Connects the realtime link to the stores (once, at start-up): frames go to `dispatch`; a
 * reconnect resumes after the newest message and change seen (new messages, then answers
 * completed, edits and deletions made meanwhile), then refetches what frames cannot carry
 * (statuses, unread counts). The link itself knows no store, so stores may use the link.
 */
export function routeRealtimeToStores(): () => void {
  const realtime = useRealtimeStore();
  realtime.syncWith({
    resumeAfter: () => useConversationsStore().lastSeenMessageId,
    resumeSince: () => useConversationsStore().lastSeenSeq,
    async catchUp() {
      await Promise.all([useConversationsStore().refresh(), useKnowledgeStore().refresh()]);
    },
  });
  return realtime.onFrame(dispatch);
}
