import type { PresentedConversation, PresentedMessage } from './conversation.presenter.ts';
import type { Reason, RoutingStatus, TransitionType } from './routing.ts';

/**
 * What happens to conversations and their messages, told after the change has committed. The
 * services emit these on the realtime bus (so every process hears them: a claim on one server
 * stops the answer a worker streams), and the subscribers read the typed fields: the WebSocket
 * gateway turns them into frames for the people concerned, the answerer watches for the
 * conversation leaving the bot. `view`/`message` are what the API shows (presenter output, made
 * once where the change happened); only the gateway forwards them, nobody else reads them.
 */
export type ConversationEvent =
  /** A new conversation (a support one enters the queue at once). */
  | {
      type: 'conversation.created';
      conversationId: string;
      status: RoutingStatus | null;
      memberIds: string[];
      view: PresentedConversation;
    }
  /** Routing moved it: every transition, including a transfer that keeps it assigned (to someone else). */
  | {
      type: 'conversation.status-changed';
      conversationId: string;
      transition: TransitionType;
      from: RoutingStatus;
      to: RoutingStatus;
      reason: Reason;
      memberIds: string[];
      view: PresentedConversation;
    }
  /** Its title changed (a model wrote a short one after the first answer). */
  | { type: 'conversation.renamed'; conversationId: string; memberIds: string[]; view: PresentedConversation }
  /** The queue moved: the conversations still waiting, each with its place in line and expected wait. */
  | { type: 'queue.moved'; waiting: { conversationId: string; memberIds: string[]; view: PresentedConversation }[] }
  /**
   * `readerIds`: the members who may read it (an internal note: the staff among them);
   * `citationsFor`: those of them who may not open every passage it cites, with the ones they may.
   */
  | MessageEvent<'message.created'>
  | MessageEvent<'message.updated'>
  | MessageEvent<'message.completed'>
  /** A piece of a bot answer being streamed. */
  | { type: 'message.delta'; conversationId: string; messageId: number; delta: string; memberIds: string[] }
  | { type: 'member.typing'; conversationId: string; userId: string; memberIds: string[] }
  | { type: 'messages.read'; conversationId: string; userId: string; messageId: number; memberIds: string[] };

interface MessageEvent<T extends string> {
  type: T;
  conversationId: string;
  messageId: number;
  readerIds: string[];
  citationsFor?: Record<string, string[]>;
  message: PresentedMessage;
}
