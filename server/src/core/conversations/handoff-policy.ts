import type { BotHandoffSettings } from '../bots/bot-settings.ts';
import { asksForHuman, type UserIntents } from './intent-lexicon.ts';
import type { Reason } from './routing.ts';

/**
 * The one answer to "hand this conversation to a person?": pure, so its table of cases is tested
 * without a database. Callers bring what happened (the trigger) and the bot's handoff settings
 * (defaults when the conversation has no bot), and act on the decision: `start` hands off now,
 * `offer` tells the user a person is one click away, `none` carries on. Whether the conversation
 * can still be handed off (it is with the bot) is the routing state machine's call, not this one.
 * A new trigger is one more kind below and one more row in RULES.
 */
export type HandoffTrigger =
  /** A member asked for a person (the handoff button, or the API naming a reason code). */
  | { kind: 'user_request'; reason?: Reason | undefined }
  /** A user's message to the bot; it asks for a person in so many words, or it does not. */
  | { kind: 'user_message'; body: string }
  /** What a user's message to the bot wants, read by the lexicon or the bot's model (intent-lexicon.ts). */
  | { kind: 'user_intent'; intents: UserIntents }
  /** The answer pipeline found nothing that answers the question (bots/answerability.ts). */
  | { kind: 'low_confidence' }
  /** The model answered that the passages do not answer the question. */
  | { kind: 'model_declined' }
  /** The model failed (errors, timeouts) after its retries. */
  | { kind: 'model_failed' }
  /** The user asked again what the bot already answered. */
  | { kind: 'repeated_question' }
  /** A 👎 on a bot answer. */
  | { kind: 'negative_feedback' };

/**
 * The reason is a routing reason code (stored on the conversation and its event when the handoff
 * starts, and on the bot's message when one is offered); a failure is never a routing reason, so
 * it can only lead to an offer.
 */
export type HandoffDecision =
  { action: 'start'; reason: Reason } | { action: 'offer' | 'none'; reason: Reason | 'model_failed' };

type Action = HandoffDecision['action'];
type TriggerOf<K extends HandoffTrigger['kind']> = Extract<HandoffTrigger, { kind: K }>;

/** Questions count as the same when they differ only in case, spacing and punctuation. */
const normalQuestion = (text: string) => text.toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');

/** Whether the user asks again what they asked before and the bot has answered since (`history`: oldest first). */
export function repeatsAnsweredQuestion(
  question: { body: string },
  history: readonly { id: number; sender_type: string; body: string }[],
): boolean {
  const asked = normalQuestion(question.body);
  const earlier = history.find((m) => m.sender_type === 'user' && normalQuestion(m.body) === asked);
  return earlier !== undefined && history.some((m) => m.sender_type === 'bot' && m.id > earlier.id);
}

/** Low confidence and a declined answer: the bot starts the handoff itself when set to, else offers one. */
const startOrOffer = (s: BotHandoffSettings): Action => (!s.enabled ? 'none' : s.auto ? 'start' : 'offer');

/** A repeated question and a 👎 start the handoff at once, when the bot watches for them. */
const whenWatched = (s: BotHandoffSettings, watched: boolean): Action => (s.enabled && watched ? 'start' : 'none');

/** A reading this sure that the user wants a person is passed on, like their own words. */
const WANTS_PERSON = 0.5;

/**
 * A complaint or frustration at or over the bot's threshold starts the handoff when the bot watches
 * for it; a complaint names the reason first, as the more specific of the two.
 */
function felt(s: BotHandoffSettings, intents: UserIntents): HandoffDecision {
  if (intents.wantsPerson >= WANTS_PERSON) return { action: 'start', reason: 'keyword' };
  if (s.enabled && s.onComplaint && intents.complaint >= s.complaintThreshold)
    return { action: 'start', reason: 'complaint' };
  if (s.enabled && s.onFrustration && intents.frustrated >= s.frustrationThreshold)
    return { action: 'start', reason: 'frustration' };
  return { action: 'none', reason: 'frustration' };
}

/** The table: one row per trigger — the reason it carries and the action the settings lead to. */
const RULES: { [K in HandoffTrigger['kind']]: (s: BotHandoffSettings, t: TriggerOf<K>) => HandoffDecision } = {
  // A person's own request is always passed on, whatever the bot's settings.
  user_request: (_s, t) => ({ action: 'start', reason: t.reason ?? 'user_request' }),
  // So are their own words (the bot's trigger words included), even with the bot's handoff off.
  user_message: (s, t) => ({ action: asksForHuman(t.body, s.triggerWords) ? 'start' : 'none', reason: 'keyword' }),
  // What the message wants: a person, like the words above; frustration and a complaint by the settings.
  user_intent: (s, t) => felt(s, t.intents),
  low_confidence: (s) => ({ action: startOrOffer(s), reason: 'low_confidence' }),
  model_declined: (s) => ({ action: startOrOffer(s), reason: 'model_declined' }),
  model_failed: (s) => ({ action: s.enabled ? 'offer' : 'none', reason: 'model_failed' }),
  repeated_question: (s) => ({ action: whenWatched(s, s.onRepeatedQuestion), reason: 'repeated_question' }),
  negative_feedback: (s) => ({ action: whenWatched(s, s.onNegativeFeedback), reason: 'negative_feedback' }),
};

export function decideHandoff(trigger: HandoffTrigger, settings: BotHandoffSettings): HandoffDecision {
  // RULES pairs each kind with its rule; TypeScript cannot follow that pairing through the lookup.
  const rule = RULES[trigger.kind] as (s: BotHandoffSettings, t: HandoffTrigger) => HandoffDecision;
  return rule(settings, trigger);
}
