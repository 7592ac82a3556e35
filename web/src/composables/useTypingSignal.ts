import { toValue, type MaybeRefOrGetter } from 'vue';
import { useRealtimeStore } from '../stores/realtime';

/** Tells the others "I am typing", at most once per `intervalMs` per conversation. */
export function useTypingSignal(conversationId: MaybeRefOrGetter<string | null | undefined>, intervalMs = 3000) {
  const realtime = useRealtimeStore();
  let lastSent = 0;
  let lastConversation: string | null | undefined;

  return function notifyTyping() {
    const id = toValue(conversationId);
    if (!id) return;
    const now = Date.now();
    if (id === lastConversation && now - lastSent < intervalMs) return;
    if (realtime.send({ type: 'typing', conversationId: id })) {
      lastSent = now;
      lastConversation = id;
    }
  };
}
