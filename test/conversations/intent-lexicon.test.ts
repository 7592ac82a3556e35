import { describe, expect, it } from 'vitest';
import { botHandoffSchema } from '../../server/src/core/bots/bot-settings.ts';
import { parseClassifierReply } from '../../server/src/core/bots/intent-classifier.ts';
import { lexiconIntents, type UserIntents } from '../../server/src/core/conversations/intent-lexicon.ts';

/** The offline reading of a message to the bot, against the default thresholds a new bot has. */

const { frustrationThreshold, complaintThreshold } = botHandoffSchema.parse({});
const WANTS_PERSON = 0.5;

function over(intents: UserIntents): (keyof UserIntents)[] {
  const found: (keyof UserIntents)[] = [];
  if (intents.wantsPerson >= WANTS_PERSON) found.push('wantsPerson');
  if (intents.frustrated >= frustrationThreshold) found.push('frustrated');
  if (intents.complaint >= complaintThreshold) found.push('complaint');
  return found;
}

const positives: [string, keyof UserIntents][] = [
  ['I am furious, this bot is useless', 'frustrated'],
  ['This is useless!!!', 'frustrated'],
  ['You are so stupid', 'frustrated'],
  ['Why are you so useless?', 'frustrated'],
  ['Worst bot ever, what a waste of time', 'frustrated'],
  ["I'm fed up with this", 'frustrated'],
  ['WHY IS THIS SO HARD!!!', 'frustrated'],
  ['THIS IS RIDICULOUS', 'frustrated'],
  ['Are you even listening?', 'frustrated'],
  ['你们这个机器人太垃圾了，气死我了', 'frustrated'],
  ['什么破机器人', 'frustrated'],
  ['受够了！！！', 'frustrated'],
  ['真没用', 'frustrated'],
  ['你是不是弱智？', 'frustrated'],
  ['为什么这么垃圾？？？', 'frustrated'],
  ['I want to complain', 'complaint'],
  ["I'd like to file a formal complaint about your service", 'complaint'],
  ['I have a complaint', 'complaint'],
  ['我要投诉', 'complaint'],
  ['我要投诉你们的客服', 'complaint'],
  ['投诉一下你们', 'complaint'],
  ['再这样我就给差评了', 'complaint'],
  ['I want to talk to a human', 'wantsPerson'],
  ['转人工', 'wantsPerson'],
];

const negatives = [
  'How many vacation days do I get?',
  'How do I file a complaint about a supplier?',
  'What is the complaints procedure?',
  'I received a complaint from a client, what should I do?',
  "I'm not angry, just confused about the leave policy",
  "I'm not complaining, but how many days do I get?",
  'What should I do if a customer is furious?',
  'Can you tell me what to do if a client is furious?',
  'My manager is angry that I took sick leave, what are my rights?',
  'Is the old VPN client useless now?',
  'Where is the garbage room?',
  'Garbage collection is on Monday.',
  'I had a terrible flu last week and need a sick note',
  'Sorry for the stupid question',
  'Please explain the PTO and HR policy for the EU',
  'URGENT: VPN NOT WORKING',
  "I don't want to talk to a human, just tell me the answer",
  '垃圾分类的规定是什么？',
  '厨余垃圾放在哪里？',
  '年假没用完可以顺延吗？',
  '你们部门没用完的年假怎么算',
  '这个笨重的设备怎么搬？',
  '如何投诉供应商？',
  '投诉流程是什么？',
  '你们能告诉我投诉流程吗',
  '我想投诉一下供应商，流程是什么？',
  '有人投诉我怎么办？',
  '这不是投诉，只是建议',
  '我没有生气，只是想问一下报销流程',
  '客户很生气应该怎么处理？',
  '系统崩溃了怎么办？',
  '非常感谢！！！',
  '不需要人工，谢谢',
  '什么是人工智能？',
];

describe('the intent lexicon', () => {
  it.each(positives)('reads %j as %s', (text, intent) => {
    expect(over(lexiconIntents(text))).toContain(intent);
  });

  it.each(negatives)('reads %j as an ordinary message', (text) => {
    expect(over(lexiconIntents(text))).toEqual([]);
  });

  it('scores from 0 to 1, more cues scoring higher', () => {
    const one = lexiconIntents('I am annoyed').frustrated;
    const two = lexiconIntents('I am annoyed, this is ridiculous!!!').frustrated;
    expect(one).toBeGreaterThan(0);
    expect(two).toBeGreaterThan(one);
    expect(two).toBeLessThanOrEqual(1);
    expect(lexiconIntents('How many vacation days do I get?')).toEqual({ wantsPerson: 0, frustrated: 0, complaint: 0 });
  });

  it("counts the bot's own trigger words as asking for a person", () => {
    expect(lexiconIntents('Escalate please', ['escalate']).wantsPerson).toBe(1);
    expect(lexiconIntents('Escalate please').wantsPerson).toBe(0);
  });
});

describe("the handoff classifier's reply", () => {
  it('is read as JSON, also inside a code fence or a sentence', () => {
    const intents = { wantsPerson: 0.1, frustrated: 0.9, complaint: 0 };
    expect(parseClassifierReply('{"wants_person": 0.1, "frustrated": 0.9, "complaint": 0}')).toEqual(intents);
    expect(parseClassifierReply('```json\n{"wants_person":0.1,"frustrated":0.9,"complaint":0}\n```')).toEqual(intents);
    expect(parseClassifierReply('Sure: {"wants_person":0.1,"frustrated":0.9,"complaint":0}.')).toEqual(intents);
  });

  it('is set aside when it is not the three scores from 0 to 1', () => {
    for (const reply of [
      'The user seems frustrated.',
      '{"wants_person": 0.1, "frustrated": 0.9}',
      '{"wants_person": 0.1, "frustrated": 9, "complaint": 0}',
      '{"wants_person": "no", "frustrated": 0.9, "complaint": 0}',
      '{wants_person: 0.1}',
    ])
      expect(parseClassifierReply(reply), reply).toBeUndefined();
  });
});
