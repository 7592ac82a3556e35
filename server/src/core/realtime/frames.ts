import type { PresentedConversation, PresentedMessage } from '../conversations/conversation.presenter.ts';
import type { PresentedDocument } from '../knowledge/knowledge.presenter.ts';

/**
 * The WebSocket contract: frames the server sends. Payloads are presenter output, so
 * a socket sees exactly what the REST API would show the same user. The web app imports these
 * types (type-only), so a change here is a change the browser's type-check sees.
 */
export type MessageFrame = {
  type: 'message.created' | 'message.updated' | 'message.completed';
  message: PresentedMessage;
};

/** A piece of a bot's streaming answer, appended to the message `messageId`. */
export type MessageDeltaFrame = { type: 'message.delta'; conversationId: string; messageId: number; delta: string };

export type ConversationFrame = { type: 'conversation.updated'; conversation: PresentedConversation };

export type TypingFrame = { type: 'typing'; conversationId: string; userId: string };

export type ReadFrame = { type: 'read'; conversationId: string; userId: string; messageId: number };

/** A removed document is announced once more, with status `deleted`, so live lists can drop it. */
export type DocumentUpdate = PresentedDocument | (Omit<PresentedDocument, 'status'> & { status: 'deleted' });

/** Ingestion status and progress, for admins' live views. */
export type DocumentFrame = { type: 'document.updated'; document: DocumentUpdate };

/**
 * Frames the gateway answers a socket with itself: the end of a replay (`last`: the newest message
 * id, `seq`: the newest change number, either sent or already the client's), a refused frame, a pong.
 */
export type GatewayFrame =
  | { type: 'resume.done'; last: number; seq: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' };

/** Frames for the members of a conversation (and queue watchers): built from conversation events by the gateway. */
export type DeliveredFrame = MessageFrame | MessageDeltaFrame | ConversationFrame | TypingFrame | ReadFrame;

/** Every frame the server sends over /ws. */
export type ServerFrame = DeliveredFrame | DocumentFrame | GatewayFrame;
