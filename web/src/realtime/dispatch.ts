import { useConversationsStore } from '../stores/conversations';
import { useKnowledgeStore } from '../stores/knowledge';
import type { ServerFrame } from './frames';

type Listener = (frame: ServerFrame) => void;
const listeners = new Set<Listener>();

/** Extra reactions to frames (agent notifications); the state itself changes only in dispatch. */
export function onFrame(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

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
      conversations.noteSeen(frame.last);
      break;
    case 'error':
      console.warn('realtime error', frame.code, frame.message);
      break;
    case 'pong':
      break;
  }
  for (const listener of listeners) listener(frame);
}

/** After a reconnect and its replay: what frames cannot carry (statuses, unread counts) is fetched again. */
export async function catchUp(): Promise<void> {
  await Promise.all([useConversationsStore().refresh(), useKnowledgeStore().refresh()]);
}
