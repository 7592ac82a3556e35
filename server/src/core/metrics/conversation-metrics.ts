import type { PresentedMessage } from '../conversations/conversation.presenter.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import type { Metrics } from './metrics.ts';

/**
 * Counts what happens to conversations from their domain events. Every process hears every event
 * (Redis pub/sub), so each counts only the events it published itself: summed over the processes,
 * Prometheus sees each event once. Returns the unsubscribe function.
 */
export function countConversationEvents(
  bus: Pick<RealtimeBus, 'subscribe'>,
  metrics: Pick<Metrics, 'conversationTransitions' | 'messages' | 'botAnswers'>,
): () => void {
  const countAnswer = (message: PresentedMessage) => {
    if (message.senderType === 'bot') metrics.botAnswers.inc({ outcome: message.outcome ?? 'answered' });
  };
  return bus.subscribe((event, origin) => {
    if (!origin.local) return;
    switch (event.type) {
      case 'conversation.status-changed':
        metrics.conversationTransitions.inc({ transition: event.transition, to: event.to, reason: event.reason });
        return;
      case 'message.created':
        metrics.messages.inc({ sender: event.message.senderType });
        // A bot's "nothing found" is created complete; a streamed answer is counted when it completes.
        if (event.message.status !== 'streaming') countAnswer(event.message);
        return;
      case 'message.completed':
        countAnswer(event.message);
        return;
    }
  });
}
