import type { Conversation, KnowledgeDocument, Message } from '../api/types';

/** Frames the server sends over /ws (DESIGN.md "WebSocket contract"). */
export type ServerFrame =
  | { type: 'message.created'; message: Message }
  | { type: 'message.updated'; message: Message }
  | { type: 'message.delta'; conversationId: string; messageId: number; delta: string }
  | { type: 'message.completed'; message: Message }
  | { type: 'conversation.updated'; conversation: Conversation }
  | { type: 'typing'; conversationId: string; userId: string }
  | { type: 'read'; conversationId: string; userId: string; messageId: number }
  | { type: 'document.updated'; document: KnowledgeDocument }
  | { type: 'resume.done'; last: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' };

/** Frames the client may send. */
export type ClientFrame =
  | { type: 'typing'; conversationId: string }
  | { type: 'read'; conversationId: string; messageId: number }
  | { type: 'resume'; after: number }
  | { type: 'ping' };
