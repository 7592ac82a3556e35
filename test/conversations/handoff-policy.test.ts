import { describe, expect, it } from 'vitest';
import { botHandoffSchema, type BotHandoffSettings } from '../../server/src/core/bots/bot-settings.ts';
import {
  asksForHuman,
  decideHandoff,
  repeatsAnsweredQuestion,
  type HandoffDecision,
  type HandoffTrigger,
} from '../../server/src/core/conversations/handoff-policy.ts';

/** The handoff policy's table of cases, without a database: trigger × the bot's settings → decision. */

const settings = (overrides: Partial<BotHandoffSettings> = {}): BotHandoffSettings => ({ ...botHandoffSchema.parse({}), ...overrides });

const DEFAULTS = settings();
const AUTO = settings({ auto: true });
const OFF = settings({ enabled: false, auto: true });
const QUIET = settings({ onNegativeFeedback: false, onRepeatedQuestion: false });
const COMPLAINTS = settings({ triggerWords: ['投诉', 'Escalate'] });

const cases: [string, HandoffTrigger, BotHandoffSettings, HandoffDecision][] = [
  ['the handoff button', { kind: 'user_request' }, DEFAULTS, { action: 'start', reason: 'user_request' }],
  ['the button with handoff off', { kind: 'user_request' }, OFF, { action: 'start', reason: 'user_request' }],
  ['a client naming its reason code', { kind: 'user_request', reason: 'keyword' }, DEFAULTS, { action: 'start', reason: 'keyword' }],
  ['我要转人工', { kind: 'user_message', body: '我要转人工' }, DEFAULTS, { action: 'start', reason: 'keyword' }],
  ['words with handoff off', { kind: 'user_message', body: 'I want to talk to a human' }, OFF, { action: 'start', reason: 'keyword' }],
  ['什么是人工智能？', { kind: 'user_message', body: '什么是人工智能？' }, DEFAULTS, { action: 'none', reason: 'keyword' }],
  ['an ordinary question', { kind: 'user_message', body: 'How many vacation days?' }, DEFAULTS, { action: 'none', reason: 'keyword' }],
  ["the bot's trigger word", { kind: 'user_message', body: '我要投诉' }, COMPLAINTS, { action: 'start', reason: 'keyword' }],
  ['a trigger word in other case', { kind: 'user_message', body: 'ESCALATE now' }, COMPLAINTS, { action: 'start', reason: 'keyword' }],
  ["another bot's trigger word", { kind: 'user_message', body: '我要投诉' }, DEFAULTS, { action: 'none', reason: 'keyword' }],
  ['low confidence', { kind: 'low_confidence' }, DEFAULTS, { action: 'offer', reason: 'low_confidence' }],
  ['low confidence, auto', { kind: 'low_confidence' }, AUTO, { action: 'start', reason: 'low_confidence' }],
  ['low confidence, off', { kind: 'low_confidence' }, OFF, { action: 'none', reason: 'low_confidence' }],
  ['model declined', { kind: 'model_declined' }, DEFAULTS, { action: 'offer', reason: 'model_declined' }],
  ['model declined, auto', { kind: 'model_declined' }, AUTO, { action: 'start', reason: 'model_declined' }],
  ['model declined, off', { kind: 'model_declined' }, OFF, { action: 'none', reason: 'model_declined' }],
  ['model failed', { kind: 'model_failed' }, DEFAULTS, { action: 'offer', reason: 'model_failed' }],
  ['model failed, auto: only offered', { kind: 'model_failed' }, AUTO, { action: 'offer', reason: 'model_failed' }],
  ['model failed, off', { kind: 'model_failed' }, OFF, { action: 'none', reason: 'model_failed' }],
  ['repeated question (not auto)', { kind: 'repeated_question' }, DEFAULTS, { action: 'start', reason: 'repeated_question' }],
  ['repeated question, not watched', { kind: 'repeated_question' }, QUIET, { action: 'none', reason: 'repeated_question' }],
  ['repeated question, off', { kind: 'repeated_question' }, OFF, { action: 'none', reason: 'repeated_question' }],
  ['👎', { kind: 'negative_feedback' }, DEFAULTS, { action: 'start', reason: 'negative_feedback' }],
  ['👎, not watched', { kind: 'negative_feedback' }, QUIET, { action: 'none', reason: 'negative_feedback' }],
  ['👎, off', { kind: 'negative_feedback' }, OFF, { action: 'none', reason: 'negative_feedback' }],
];

describe('handoff policy', () => {
  it.each(cases)('%s', (_name, trigger, bot, expected) => {
    expect(decideHandoff(trigger, bot)).toEqual(expected);
  });

  it('recognises requests for a person in Chinese and English, not questions about people or AI', () => {
    const asks = ['转人工', '找客服', '联系客服', '客服人员在吗', '真人回复', 'talk to a human', 'Speak with a real person', 'human, please'];
    const doesNot = ['人工智能是什么', 'How do humans talk to agents in the portal?', 'Who is the agent for my region?'];
    for (const text of asks) expect(asksForHuman(text), text).toBe(true);
    for (const text of doesNot) expect(asksForHuman(text), text).toBe(false);
  });

  it('counts a question as repeated only when asked again (case, spacing, punctuation aside) after an answer', () => {
    const asked = { id: 1, sender_type: 'user', body: 'How many days of leave?' };
    const answered = { id: 2, sender_type: 'bot', body: '15 days. [1]' };
    const again = { body: 'how many days of leave' };
    expect(repeatsAnsweredQuestion(again, [asked, answered])).toBe(true);
    expect(repeatsAnsweredQuestion(again, [asked])).toBe(false);
    expect(repeatsAnsweredQuestion({ body: 'And for part-timers?' }, [asked, answered])).toBe(false);
  });
});
