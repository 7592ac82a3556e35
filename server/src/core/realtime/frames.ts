/**
 * The WebSocket contract (DESIGN.md): frames the server sends. Payloads are presenter output, so
 * a socket sees exactly what the REST API would show the same user.
 */
export type ServerFrame =
  | { type: 'message.created'; message: PresentedMessage }
  | { type: 'message.updated'; message: PresentedMessage }
  | { type: 'message.delta'; conversationId: string; messageId: number; delta: string }
  | { type: 'message.completed'; message: PresentedMessage }
  | { type: 'conversation.updated'; conversation: Record<string, unknown> }
  | { type: 'typing'; conversationId: string; userId: string }
  | { type: 'read'; conversationId: string; userId: string; messageId: number }
  | { type: 'document.updated'; document: Record<string, unknown> };

/** What clients need of a message to render it and order it. */
export interface PresentedMessage {
  id: number;
  conversationId: string;
  internal: boolean;
  [field: string]: unknown;
}
