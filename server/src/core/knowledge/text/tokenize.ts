import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { stemmer } from 'stemmer';
import { CHINESE_STOP_CHARS, CHINESE_STOPWORDS, ENGLISH_STOPWORDS } from './stopwords.ts';

/**
 * The one tokenisation behind the full-text index, full-text queries, the offline embedder and the
 * BM25 peer of `npm run eval`. Chinese runs are segmented by jieba (search mode for documents,
 * precise mode for queries) and also split into character bigrams, so Traditional Chinese (which
 * jieba's dictionary segments poorly) and segmentation disagreements between question and passage
 * still match; other words are lower-cased, stop words dropped and English-stemmed (Porter).
 */

let jieba: Jieba | undefined;
export function segmenter(): Jieba {
  jieba ??= Jieba.withDict(dict);
  return jieba;
}

const HAN = /\p{Script=Han}/u;
// A run of Han characters, or a run of other letters/digits (marks kept with their letter).
const RUNS = /\p{Script=Han}+|(?:(?!\p{Script=Han})[\p{L}\p{N}\p{M}])+/gu;
const MAX_WORD = 64;

export type TokenMode = 'index' | 'query';

export interface Run {
  han: boolean;
  text: string;
}

/** NFKC (PDFs give Kangxi radicals for CJK), lower case. */
export function normalize(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Whether a lexeme (or text) holds Han characters. */
export function isHan(text: string): boolean {
  return HAN.test(text);
}

export function runs(text: string): Run[] {
  const out: Run[] = [];
  for (const match of normalize(text).matchAll(RUNS)) out.push({ han: HAN.test(match[0]), text: match[0] });
  return out;
}

export function stemWord(word: string): string | undefined {
  if (word.length > MAX_WORD || ENGLISH_STOPWORDS.has(word)) return undefined;
  // Porter is for English; other scripts and numbers pass through.
  return /^[a-z]+$/.test(word) ? stemmer(word) : word;
}

export function hanWords(run: string, mode: TokenMode): string[] {
  const words = mode === 'index' ? segmenter().cutForSearch(run, true) : segmenter().cut(run, true);
  return words.filter(
    (w) => HAN.test(w) && !(w.length === 1 && CHINESE_STOP_CHARS.has(w)) && !CHINESE_STOPWORDS.has(w),
  );
}

export function hanBigrams(run: string): string[] {
  const chars = [...run];
  if (chars.length === 1) return CHINESE_STOP_CHARS.has(run) ? [] : [run];
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) {
    const gram = chars[i]! + chars[i + 1]!;
    if (!CHINESE_STOPWORDS.has(gram)) out.push(gram);
  }
  return out;
}

/** The lexemes of a text, in order, repeated as often as they occur (term frequency matters to BM25). */
export function lexemes(text: string, mode: TokenMode): string[] {
  const out: string[] = [];
  for (const run of runs(text)) {
    if (run.han) {
      const words = hanWords(run.text, mode);
      const grams = hanBigrams(run.text);
      const seen = new Set(words);
      out.push(...words, ...grams.filter((g) => !seen.has(g)));
    } else {
      const stem = stemWord(run.text);
      if (stem) out.push(stem);
    }
  }
  return out;
}

/**
 * A tsvector literal from lexemes (positions in order). Built here rather than by `to_tsvector`,
 * so both database backends index exactly these lexemes whatever their locale and parser.
 */
export function tsvectorLiteral(tokens: string[]): string {
  const positions = new Map<string, number[]>();
  tokens.forEach((token, i) => {
    const list = positions.get(token) ?? [];
    if (list.length < 256) list.push(Math.min(i + 1, 16383));
    positions.set(token, list);
  });
  return [...positions].map(([lexeme, pos]) => `'${lexeme.replace(/['\\]/g, '\\$&')}':${pos.join(',')}`).join(' ');
}

/** Approximate model tokens (for chunk sizes): a Han character ≈ 1 token, a word ≈ 1.3. */
export function countTokens(text: string): number {
  let n = 0;
  for (const run of runs(text)) n += run.han ? [...run.text].length : 1.3;
  return Math.ceil(n);
}
