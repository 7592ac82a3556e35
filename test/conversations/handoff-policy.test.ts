import { describe, expect, it } from 'vitest';
import { botHandoffSchema, type BotHandoffSettings } from '../../server/src/core/bots/bot-settings.ts';
import { asksForHuman, type UserIntents } from '../../server/src/core/conversations/intent-lexicon.ts';
import {
  decideHandoff,
  repeatsAnsweredQuestion,
  type HandoffDecision,
  type HandoffTrigger,
} from '../../server/src/core/conversations/handoff-policy.ts';

/** The handoff policy's table of cases, without a database: trigger × the bot's settings → decision. */

const settings = (overrides: Partial<BotHandoffSettings> = {}): BotHandoffSettings => ({
  ...botHandoffSchema.parse({}),
  ...overrides,
});

const DEFAULTS = settings();
const AUTO = settings({ auto: true });
const OFF = settings({ enabled: false, auto: true });
const QUIET = settings({ onNegativeFeedback: false, onRepeatedQuestion: false });
const COMPLAINTS = settings({ triggerWords: ['投诉', 'Escalate'] });
const UNMOVED = settings({ onFrustration: false, onComplaint: false });
const THICK_SKINNED = settings({ frustrationThreshold: 0.95, complaintThreshold: 0.95 });

const said = (body: string): HandoffTrigger => ({ kind: 'user_message', body });
const read = (intents: Partial<UserIntents>): HandoffTrigger => ({
  kind: 'user_intent',
  intents: { wantsPerson: 0, frustrated: 0, complaint: 0, ...intents },
});
const start = (reason: HandoffDecision['reason']) => ({ action: 'start', reason }) as HandoffDecision;
const offer = (reason: HandoffDecision['reason']) => ({ action: 'offer', reason }) as HandoffDecision;
const none = (reason: HandoffDecision['reason']) => ({ action: 'none', reason }) as HandoffDecision;

const cases: [string, HandoffTrigger, BotHandoffSettings, HandoffDecision][] = [
  ['the handoff button', { kind: 'user_request' }, DEFAULTS, start('user_request')],
  ['the button with handoff off', { kind: 'user_request' }, OFF, start('user_request')],
  ['a client naming its reason code', { kind: 'user_request', reason: 'keyword' }, DEFAULTS, start('keyword')],
  ['我要转人工', said('我要转人工'), DEFAULTS, start('keyword')],
  ['words with handoff off', said('I want to talk to a human'), OFF, start('keyword')],
  ['什么是人工智能？', said('什么是人工智能？'), DEFAULTS, none('keyword')],
  ['an ordinary question', said('How many vacation days?'), DEFAULTS, none('keyword')],
  ["the bot's trigger word", said('我要投诉'), COMPLAINTS, start('keyword')],
  ['a trigger word in other case', said('ESCALATE now'), COMPLAINTS, start('keyword')],
  ["another bot's trigger word", said('我要投诉'), DEFAULTS, none('keyword')],
  ['frustrated', read({ frustrated: 0.8 }), DEFAULTS, start('frustration')],
  ['frustrated at the threshold', read({ frustrated: 0.7 }), DEFAULTS, start('frustration')],
  ['a little annoyed', read({ frustrated: 0.6 }), DEFAULTS, none('frustration')],
  ['frustrated, under a higher threshold', read({ frustrated: 0.9 }), THICK_SKINNED, none('frustration')],
  ['frustrated, not watched', read({ frustrated: 0.9 }), UNMOVED, none('frustration')],
  ['frustrated, handoff off', read({ frustrated: 0.9 }), OFF, none('frustration')],
  ['a complaint', read({ complaint: 0.8 }), DEFAULTS, start('complaint')],
  ['a complaint, and frustrated', read({ complaint: 0.8, frustrated: 0.9 }), DEFAULTS, start('complaint')],
  ['a complaint, not watched', read({ complaint: 0.9 }), UNMOVED, none('frustration')],
  ['a question about complaints', read({ complaint: 0.2 }), DEFAULTS, none('frustration')],
  ['wants a person', read({ wantsPerson: 0.9 }), DEFAULTS, start('keyword')],
  ['wants a person, and complains', read({ wantsPerson: 1, complaint: 0.9 }), DEFAULTS, start('keyword')],
  ['wants a person, handoff off', read({ wantsPerson: 0.9 }), OFF, start('keyword')],
  ['probably not a person', read({ wantsPerson: 0.3 }), DEFAULTS, none('frustration')],
  ['low confidence', { kind: 'low_confidence' }, DEFAULTS, offer('low_confidence')],
  ['low confidence, auto', { kind: 'low_confidence' }, AUTO, start('low_confidence')],
  ['low confidence, off', { kind: 'low_confidence' }, OFF, none('low_confidence')],
  ['model declined', { kind: 'model_declined' }, DEFAULTS, offer('model_declined')],
  ['model declined, auto', { kind: 'model_declined' }, AUTO, start('model_declined')],
  ['model declined, off', { kind: 'model_declined' }, OFF, none('model_declined')],
  ['model failed', { kind: 'model_failed' }, DEFAULTS, offer('model_failed')],
  ['model failed, auto: only offered', { kind: 'model_failed' }, AUTO, offer('model_failed')],
  ['model failed, off', { kind: 'model_failed' }, OFF, none('model_failed')],
  ['repeated question (not auto)', { kind: 'repeated_question' }, DEFAULTS, start('repeated_question')],
  ['repeated question, not watched', { kind: 'repeated_question' }, QUIET, none('repeated_question')],
  ['repeated question, off', { kind: 'repeated_question' }, OFF, none('repeated_question')],
  ['👎', { kind: 'negative_feedback' }, DEFAULTS, start('negative_feedback')],
  ['👎, not watched', { kind: 'negative_feedback' }, QUIET, none('negative_feedback')],
  ['👎, off', { kind: 'negative_feedback' }, OFF, none('negative_feedback')],
];

describe('handoff policy', () => {
  it.each(cases)('%s', (_name, trigger, bot, expected) => {
    expect(decideHandoff(trigger, bot)).toEqual(expected);
  });

  it('recognises requests for a person in Chinese and English, not questions about people or AI', () => {
    const asks = ['转人工', '找客服', '联系客服', '客服人员在吗', '真人回复'];
    asks.push('talk to a human', 'Speak with a real person', 'human, please', 'I need a live agent');
    const doesNot = [
      '人工智能是什么',
      '不需要人工，谢谢',
      "I don't want to talk to a human, just answer",
      'How do humans talk to agents in the portal?',
      'Who is the agent for my region?',
    ];
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
