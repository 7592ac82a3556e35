import type { Queryable } from '../db/database.ts';
import { createRetrievalRepository } from '../knowledge/retrieval.repository.ts';
import type { SearchHit } from '../knowledge/retrieval.service.ts';
import type { Language } from './language.ts';

/** Documents sampled to tell the knowledge base's language: enough for a share, one quick query. */
const SAMPLE_DOCUMENTS = 50;

/**
 * The language a text is mostly written in: Han characters against Latin words (detectLanguage
 * says Chinese for a single Han character, right for a question, wrong for an English handbook
 * quoting one Chinese name).
 */
export function mainLanguage(text: string): Language {
  const han = (text.match(/[\u3400-\u9fff]/g) ?? []).length;
  const words = (text.match(/[A-Za-z]+/g) ?? []).length;
  return han > words ? 'zh' : 'en';
}

/**
 * The language to search in besides the question's: the other one, when most of the documents the
 * asker may read in the bot's collections (all collections when it names none) are written in it.
 * A Chinese question over English documents finds nothing by its own words. Not for a minority:
 * translating costs a model call before every answer, which a bilingual knowledge base answering
 * in both languages rarely needs.
 */
export async function languageToAlsoSearch(
  db: Queryable,
  askerId: string,
  collectionIds: string[],
  question: Language,
): Promise<Language | null> {
  const openings = await createRetrievalRepository(db).documentOpenings(
    askerId,
    collectionIds.length ? collectionIds : null,
    SAMPLE_DOCUMENTS,
  );
  if (!openings.length) return null;
  const other = openings.filter((text) => mainLanguage(text) !== question).length;
  if (other * 2 <= openings.length) return null;
  return question === 'zh' ? 'en' : 'zh';
}

/**
 * The hits of the same question searched in several wordings as one list: each passage once, as
 * the wording it answers best found it, most relevant first. Relevance is the reranker's calibrated
 * probability against the wording that found the passage, so it compares across wordings (fused
 * scores do not); a wording that finds nothing (the question's own words over documents in another
 * language) ranks low and does not crowd out the others.
 */
export function mergeHits<H extends SearchHit>(lists: H[][], k: number): H[] {
  if (lists.length === 1) return lists[0]!;
  const rank = (h: SearchHit) => h.relevance ?? 0;
  const best = new Map<string, H>();
  for (const hit of lists.flat()) {
    const seen = best.get(hit.chunkId);
    if (!seen || rank(hit) > rank(seen) || (rank(hit) === rank(seen) && hit.score > seen.score))
      best.set(hit.chunkId, hit);
  }
  return [...best.values()].sort((a, b) => rank(b) - rank(a) || b.score - a.score).slice(0, k);
}
