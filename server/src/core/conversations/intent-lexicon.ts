/**
 * What a user's message to the bot wants, read from its words alone (no model): whether it asks for
 * a person, how frustrated it sounds, whether it is a complaint about us. Each score is 0–1; the
 * bot's thresholds turn them into a handoff (handoff-policy.ts). With a model the bot's turn asks
 * the model instead (bots/intent-classifier.ts) and falls back to this reading.
 */
export interface UserIntents {
  wantsPerson: number;
  frustrated: number;
  complaint: number;
}

/** A cue and its weight; a `targeted` cue is aimed at the bot, so a question mark does not soften it. */
interface Cue {
  pattern: RegExp;
  weight: number;
  targeted?: boolean;
}

// Phrases that mean "let me talk to a person", in the languages our users write. "人工" alone is
// also the first half of "人工智能" (artificial intelligence), so that reading is excluded.
const HANDOFF_PATTERNS: RegExp[] = [
  /人工(?!智能)/,
  /真人/,
  /(找|联系|转接?)客服/,
  /客服人员/,
  /\b(talk|speak|chat) (to|with) (a |an )?(human|person|agent|real person|someone)\b/,
  /\b(human|live) agent\b/,
  /\breal person\b/,
  /\bhuman,? please\b/,
];

// Insults and the bot named in one breath ("this bot is useless", "你们这个机器人太垃圾了").
const AT_BOT_EN = String.raw`\b(you're|you are|this (bot|assistant|chatbot|thing|ai|system)|the (bot|assistant|chatbot)|your (answers?|replies|bot))\b`;
const INSULT_EN = String.raw`(useless|worthless|pointless|stupid|dumb|garbage|rubbish|trash|pathetic|terrible|awful|horrible|idiot\w*|a joke)\b`;
// A Chinese insult is a predicate ("太垃圾了", "真没用"), not a compound: 垃圾分类, 年假没用完, 笨重.
const PREDICATE_END = '(?=[了啊吧呀呢！!。，,？?~\\s]|$)';
const INSULT_ZH = `((?<!厨余|有害|可回收|其他|生活|建筑|电子|医疗|干|湿)垃圾|没用|蠢|笨|烂)${PREDICATE_END}|废物|弱智|智障|白痴|差劲`;

const FRUSTRATION: Cue[] = [
  { pattern: new RegExp(`${AT_BOT_EN}.{0,16}\\b${INSULT_EN}`), weight: 0.85, targeted: true },
  {
    pattern: /\b(stupid|useless|dumb|worthless|idiot\w*|garbage) (bot|assistant|chatbot|machine|ai|thing)\b/,
    weight: 0.85,
    targeted: true,
  },
  {
    pattern:
      /\bthis is (so |completely |totally |just )?(useless|pointless|ridiculous|garbage|rubbish|a joke)\b|\bare you (so |always |even )?(stupid|dumb|useless|an idiot|kidding me|listening)\b/,
    weight: 0.8,
    targeted: true,
  },
  {
    pattern: /\b(hate|screw) (you|this)\b|\byou (don't|do not|never) (understand|listen)\b/,
    weight: 0.8,
    targeted: true,
  },
  { pattern: /\b(furious|livid|outraged|infuriat\w*|pissed|fed up|sick (and tired )?of)\b/, weight: 0.8 },
  { pattern: /\b(wtf|fuck\w*|shit\w*|bullshit|damn\w*|what the hell|bloody hell)\b/, weight: 0.8 },
  { pattern: /\bwaste of (my )?time\b|\b(ridiculous|unacceptable|pathetic|absurd)\b|\bwhat a joke\b/, weight: 0.75 },
  { pattern: /\b(angry|annoyed|annoying|frustrat\w*|upset|irritat\w*|mad at)\b/, weight: 0.6 },
  { pattern: /\b(useless|worthless|pointless|stupid|dumb)\b/, weight: 0.6 },
  { pattern: /\b(not|isn't|wasn't) (helpful|helping)\b|\bunhelpful\b|\bno help\b/, weight: 0.5 },
  { pattern: /\b(terrible|horrible|awful|worst)\b/, weight: 0.4 },

  {
    pattern: new RegExp(
      `(你们|机器人|助手|客服|系统)[^，。！？,.!?\\s]{0,6}?(${INSULT_ZH})|你(真|太|好|就是|是|也太|怎么这么|这么)[^，。！？,.!?\\s]{0,2}(${INSULT_ZH})`,
    ),
    weight: 0.85,
    targeted: true,
  },
  {
    pattern:
      /什么破|(破|垃圾)(机器人|系统|玩意|东西|助手|软件|回答)|辣鸡|废物|弱智|智障|白痴|傻[逼比bB]|脑残|蠢货|笨蛋/,
    weight: 0.85,
    targeted: true,
  },
  { pattern: /他妈|妈的|卧槽|我靠|tmd/, weight: 0.85 },
  { pattern: /气死|气炸|火大|恼火|愤怒|烦死|受够|忍无可忍|(我|快|要)崩溃|要疯了|抓狂/, weight: 0.8 },
  { pattern: new RegExp(`(真|太|好|根本|完全|一点都|一点也)?(${INSULT_ZH})|一点用(都|也)没有|毫无用处`), weight: 0.75 },
  {
    pattern: /太差|烂透|坑人|坑爹|扯淡|胡说八道|答非所问|听不懂人话|搞什么|什么鬼|浪费(我的)?时间/,
    weight: 0.7,
  },
  { pattern: /生气|不爽|不满|郁闷|无语|烦人|心累|失望/, weight: 0.6 },
];

// The words of a complaint; complaintScore decides whether it is one about us.
const COMPLAINT = /\bcomplain\w*|\b(report|sue) you\b|\bbad review\b|投诉|举报|差评|12315|维权/;
const COMPLAINT_AT_US = new RegExp(
  [
    String.raw`\bcomplain\w* (about|against|of) (you|your|this (bot|assistant|chatbot|service)|the (bot|assistant|chatbot|service))\b`,
    String.raw`\b(report|sue) you\b`,
    '(投诉|举报|差评)(你|机器人|客服|这个(机器人|系统|助手))',
    '(给|对)(你|你们)(一个)?差评',
  ].join('|'),
);
// A complaint about someone else ("about a supplier", "投诉供应商", "投诉流程") is a question for the handbook.
const COMPLAINT_ABOUT_OTHERS =
  /\bcomplain\w* (about|against|regarding|of|from) (?!(you|your|this|the (bot|assistant|chatbot|service))\b)|(投诉|举报)(?![你机客这了的吗啊呢吧])[\u4e00-\u9fff]/;
const WANTS_TO_COMPLAIN =
  /\bi('d| would| want| wish| need| am going| will|'m going|'ll)\b.{0,20}\bcomplain|\bi('m| am) complaining\b|我(们)?(要|想|得|必须|会|准备|就)(去)?(投诉|举报|给.{0,4}差评)/;
const ASKS_HOW =
  /^(how|where|who|what|when|which|can|could|is|are|do|does|should|may)\b|\bhow (do|can|should|would|to)\b|\b(procedure|process|policy|form)\b|如何|怎么|怎样|哪里|哪儿|流程|程序|渠道|途径|规定|制度|电话/;

// A question about something ("Will my manager be angry?") rather than at us: its words count for less,
// unless it is shouted ("为什么这么垃圾？？？").
const QUESTION =
  /[?？]\s*$|^(how|where|who|what|when|which|can|could|is|are|do|does|should|may|will|would)\b|[吗呢]\s*[?？]?\s*$/;
const QUESTION_DISCOUNT = 0.3;
const REPEATED_PUNCTUATION = /[!！?？]{3,}/;
const LOUD = 0.5;
const SHOUTING = 0.6;

const loud = (text: string) => REPEATED_PUNCTUATION.test(text);
const asksAQuestion = (text: string) => QUESTION.test(text) && !loud(text);

// "not angry", "不生气", "I don't want to talk to a human": the words before a cue, within its clause.
const NEGATION_EN =
  /\b(not|no|never|nothing|don't|doesn't|didn't|isn't|aren't|wasn't|won't|wouldn't|can't|cannot|without)\b/;
const NEGATION_ZH = /不|没|别|未|并非|无需|无须/;

function negated(text: string, index: number): boolean {
  const clause =
    text
      .slice(0, index)
      .split(/[,.;:!?，。；：！？\n]/)
      .pop() ?? '';
  const words = clause.trim().split(' ').slice(-3).join(' ');
  // "I can't believe how useless …" is not a negation of what follows.
  const en = NEGATION_EN.test(words) && !/\b(can't|cannot|couldn't) believe\b/.test(words);
  return en || NEGATION_ZH.test(clause.slice(-3));
}

/** Whether some occurrence of the pattern is not negated. */
function affirmed(text: string, pattern: RegExp): boolean {
  for (const match of text.matchAll(new RegExp(pattern.source, `${pattern.flags}g`))) {
    if (!negated(text, match.index)) return true;
  }
  return false;
}

/** Several cues together are stronger than each alone: 1 − Π(1 − weight). */
const together = (weights: number[]) => 1 - weights.reduce((left, w) => left * (1 - w), 1);

/** ALL CAPS over a dozen letters or more, not a line of acronyms ("HR", "PTO"). */
function shouting(body: string): boolean {
  const letters = body.match(/[A-Za-z]/g) ?? [];
  const upper = letters.filter((c) => c >= 'A' && c <= 'Z').length;
  const capsWords = body.match(/\b[A-Z]{2,}\b/g) ?? [];
  return letters.length >= 12 && upper / letters.length >= 0.8 && capsWords.length >= 3;
}

const normalise = (body: string) => body.toLowerCase().replace(/\s+/g, ' ').trim();

/** Whether a message asks for a person; `extra` are a bot's own trigger words. */
export function asksForHuman(body: string, extra: readonly string[] = []): boolean {
  const text = normalise(body);
  return (
    HANDOFF_PATTERNS.some((p) => affirmed(text, p)) ||
    extra.some((w) => w.trim() !== '' && text.includes(w.toLowerCase()))
  );
}

function frustrationScore(body: string, text: string): number {
  const question = asksAQuestion(text);
  const weights = FRUSTRATION.filter((cue) => affirmed(text, cue.pattern)).map((cue) =>
    question && !cue.targeted ? cue.weight * QUESTION_DISCOUNT : cue.weight,
  );
  if (loud(text)) weights.push(LOUD);
  if (shouting(body)) weights.push(SHOUTING);
  return together(weights);
}

/**
 * A complaint about us, or one the user means to make, counts; a question about complaining (the
 * procedure, a complaint about a supplier or a colleague) is one for the handbook, which the bot answers.
 */
function complaintScore(normalised: string): number {
  // "投诉一下你们" is "投诉你们": the softener would hide whom the complaint is about.
  const text = normalised.replace(/一下/g, '');
  if (!affirmed(text, COMPLAINT)) return 0;
  if (COMPLAINT_AT_US.test(text)) return 0.9;
  if (COMPLAINT_ABOUT_OTHERS.test(text)) return 0.2;
  if (WANTS_TO_COMPLAIN.test(text)) return 0.8;
  return asksAQuestion(text) || ASKS_HOW.test(text) ? 0.2 : 0.75;
}

/** The lexicon's reading of a message; `triggerWords` are the bot's own words for "a person, please". */
export function lexiconIntents(body: string, triggerWords: readonly string[] = []): UserIntents {
  const text = normalise(body);
  return {
    wantsPerson: asksForHuman(body, triggerWords) ? 1 : 0,
    frustrated: frustrationScore(body, text),
    complaint: complaintScore(text),
  };
}
