import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Language } from '../core/bots/language.ts';
import { readJsonl, type DevPassage, type DevQuestion } from './eval-corpus.ts';
import { EVAL_SETS } from './eval-data.ts';

/**
 * The questions `npm run eval:answers` asks and `npm run fit:answers` fits on, per corpus (a
 * development set's passages ingested as one collection):
 * - answerable: the set's own questions; answered right only when the answer cites their passage;
 * - unanswerable: squad2's questions no passage answers (written to look answerable);
 * - off-topic: another set's questions, whose articles the corpus does not hold — must be declined.
 * Every question falls in half "a" (fitting) or "b" (reporting) by a hash of its set and id, so the
 * two never mix and a refit sees the same split.
 */
export type CaseKind = 'answerable' | 'unanswerable' | 'off-topic';
export type Half = 'a' | 'b';

export interface AnswerCase {
  /** The set the question comes from. */
  set: string;
  id: string;
  question: string;
  kind: CaseKind;
  /** The passage that answers it (answerable only). */
  passageId: string | null;
  language: Language;
  half: Half;
}

export interface CorpusCases {
  corpus: string;
  passages: DevPassage[];
  cases: AnswerCase[];
}

const LANGUAGE: Record<string, Language> = {
  cmrc2018: 'zh',
  drcd: 'zh',
  squad2: 'en',
  'xquad/en': 'en',
  'xquad/zh': 'zh',
};

/**
 * Sets whose questions are off-topic for a corpus. squad2 and xquad share Wikipedia articles (xquad
 * is SQuAD's dev set translated), so their questions are on-topic for each other and left out;
 * the Chinese sets are different articles from each other and from the English ones.
 */
const OFF_TOPIC_SOURCES: Record<string, string[]> = {
  cmrc2018: ['drcd', 'squad2', 'xquad/en'],
  drcd: ['cmrc2018', 'squad2', 'xquad/zh'],
  squad2: ['cmrc2018', 'drcd'],
  'xquad/en': ['cmrc2018', 'drcd'],
  'xquad/zh': ['cmrc2018', 'drcd'],
};

/** Off-topic questions asked per (corpus, source set): enough for a rate, few enough to run in minutes. */
const OFF_TOPIC_PER_SOURCE = 80;

export function halfOf(set: string, id: string): Half {
  return createHash('sha1').update(`${set}:${id}`).digest()[0]! % 2 === 0 ? 'a' : 'b';
}

async function questionsOf(root: string, set: string, file = 'dev-questions.jsonl'): Promise<DevQuestion[]> {
  return readJsonl<DevQuestion>(path.join(root, set, file));
}

function toCase(set: string, q: DevQuestion, kind: CaseKind): AnswerCase {
  return {
    set,
    id: q.id,
    question: q.question,
    kind,
    passageId: kind === 'answerable' ? q.passage_id : null,
    language: LANGUAGE[set]!,
    half: halfOf(set, q.id),
  };
}

/** A deterministic sample: the questions whose hash comes first. */
function sample(set: string, questions: DevQuestion[], n: number): DevQuestion[] {
  const key = (q: DevQuestion) => createHash('sha1').update(`off-topic:${set}:${q.id}`).digest('hex');
  return [...questions].sort((a, b) => (key(a) < key(b) ? -1 : 1)).slice(0, n);
}

export async function answerCases(root: string, sets: string[] = EVAL_SETS): Promise<CorpusCases[]> {
  const out: CorpusCases[] = [];
  for (const corpus of sets) {
    const passages = await readJsonl<DevPassage>(path.join(root, corpus, 'dev-passages.jsonl'));
    const cases = (await questionsOf(root, corpus)).map((q) => toCase(corpus, q, 'answerable'));
    if (corpus === 'squad2') {
      const unanswerable = await questionsOf(root, corpus, 'dev-unanswerable.jsonl');
      cases.push(...unanswerable.map((q) => toCase(corpus, q, 'unanswerable')));
    }
    for (const source of OFF_TOPIC_SOURCES[corpus] ?? []) {
      const questions = sample(source, await questionsOf(root, source), OFF_TOPIC_PER_SOURCE);
      cases.push(...questions.map((q) => toCase(source, q, 'off-topic')));
    }
    out.push({ corpus, passages, cases });
  }
  return out;
}
