import { separateTables } from '../knowledge/parsing/markdown-table.ts';
import { sentences } from '../knowledge/text/sentences.ts';
import { lexemes } from '../knowledge/text/tokenize.ts';
import { BOT_TEXT, type Language } from './language.ts';

export interface Passage {
  /** The citation number shown to the user ([1], [2] …). */
  index: number;
  title: string;
  text: string;
  page: number | null;
}

export interface OfflineAnswer {
  text: string;
  /** Citation numbers the answer quotes. */
  cited: number[];
}

const MAX_SENTENCES = 3;
const MAX_CHARS = 600;
/** How much a question's term counts when a table row has it only in a column name. */
const COLUMN_NAME_WEIGHT = 0.25;

/**
 * The built-in answerer for air-gapped use and tests: extractive, never invented. It quotes the
 * retrieved sentences that share the most terms with the question (rarer terms count more), each
 * with its citation, labelled as an offline answer in the question's language. Returns undefined
 * when no sentence shares a term with the question: then the bot says it does not know.
 */
export function composeOfflineAnswer(
  question: string,
  passages: Passage[],
  language: Language,
): OfflineAnswer | undefined {
  const terms = new Set(lexemes(question, 'query'));
  if (!terms.size) return undefined;
  const candidates = passages.flatMap((p, rank) => {
    // A table row is quoted as a record naming its columns, so the quote answers on its own; the
    // column names, which every row of the table shares, hardly tell one row from another.
    const { prose, records } = separateTables(p.text);
    return [
      ...sentences(prose).map((sentence) => ({ sentence, cells: undefined as Set<string> | undefined })),
      ...records.map((r) => ({ sentence: r.record, cells: new Set(lexemes(r.cells, 'index')) })),
    ].map(({ sentence, cells }, position) => ({
      passage: p,
      sentence,
      rank,
      position,
      tokens: new Set(lexemes(sentence, 'index')),
      cells,
    }));
  });
  // Terms found in fewer sentences say more about where the answer is.
  const df = new Map<string, number>();
  for (const c of candidates) for (const t of terms) if (c.tokens.has(t)) df.set(t, (df.get(t) ?? 0) + 1);
  const scored = candidates
    .map((c) => {
      let score = 0;
      for (const t of terms) {
        if (!c.tokens.has(t)) continue;
        const weight = Math.log(1 + candidates.length / (df.get(t) ?? 1));
        score += c.cells && !c.cells.has(t) ? weight * COLUMN_NAME_WEIGHT : weight;
      }
      // Prefer the better-ranked passages on ties; long sentences are not better per se.
      return { ...c, score: score / Math.sqrt(Math.max(8, c.tokens.size) / 8) - c.rank * 0.01 };
    })
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score);
  const best = scored[0];
  if (!best) return undefined;

  const chosen: typeof scored = [];
  let chars = 0;
  for (const c of scored) {
    if (chosen.length >= MAX_SENTENCES || c.score < best.score * 0.6) break;
    if (chars + c.sentence.length > MAX_CHARS && chosen.length) break;
    chosen.push(c);
    chars += c.sentence.length;
  }
  // Quote in reading order, grouped by passage.
  const byPassage = new Map<number, typeof chosen>();
  for (const c of chosen.sort((a, b) => a.rank - b.rank || a.position - b.position)) {
    byPassage.set(c.passage.index, [...(byPassage.get(c.passage.index) ?? []), c]);
  }
  const lines = [...byPassage.values()].map((group) => {
    const p = group[0]!.passage;
    const quote = group.map((g) => g.sentence).join(language === 'zh' ? '' : ' ');
    return language === 'zh'
      ? `据《${p.title}》${p.page ? `（第 ${p.page} 页）` : ''}：${quote} [${p.index}]`
      : `According to "${p.title}"${p.page ? ` (page ${p.page})` : ''}: ${quote} [${p.index}]`;
  });
  return { text: `${BOT_TEXT.offlineLabel[language]}\n\n${lines.join('\n\n')}`, cited: [...byPassage.keys()] };
}

/** An offline answer without its label: the words an agent sends as their own reply (the copilot's draft). */
export function withoutOfflineLabel(text: string, language: Language): string {
  const label = `${BOT_TEXT.offlineLabel[language]}\n\n`;
  return text.startsWith(label) ? text.slice(label.length) : text;
}
