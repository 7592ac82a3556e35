import { computed, type Ref } from 'vue';
import type { Conversation, Message } from '../api/types';

/**
 * Where the bot is with my latest question: `thinking` from the moment it is sent until the first
 * word arrives, `streaming` while words arrive, else null. Only while the conversation is with its
 * bot: once a person has it, nobody is "thinking" on the bot's side.
 */
export function useAnswerState(conversation: Ref<Conversation | undefined>, messages: Ref<Message[]>) {
  return computed<'thinking' | 'streaming' | null>(() => {
    const c = conversation.value;
    if (c?.kind !== 'bot' || c.status !== 'bot') return null;
    const last = messages.value[messages.value.length - 1];
    if (!last) return null;
    if (last.senderType === 'bot') return last.status === 'streaming' ? (last.body ? 'streaming' : 'thinking') : null;
    // A file sent without words asks the bot nothing (the server starts no answer).
    const asks = last.senderType === 'user' && last.body.trim() !== '';
    return asks && (last.status === 'sending' || last.status === 'complete') ? 'thinking' : null;
  });
}
