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

/** How long the documents' language is remembered per asker and collections: it changes with imports, not per question. */
const LANGUAGE_TTL_MS = 60_000;
const LANGUAGE_ENTRIES = 5_000;

/**
 * The language to search in besides the question's: the other one, when most of the documents the
 * asker may read in the bot's collections (all collections when it names none) are written in it.
 * A Chinese question over English documents finds nothing by its own words. Not for a minority:
 * translating costs a model call before every answer, which a bilingual knowledge base answering
 * in both languages rarely needs. The share is sampled once a minute per asker and collections
 * (a query per answer cost ~20 ms on the embedded database).
 */
export function createCrossLanguageSearch(db: Queryable) {
  const shares = new Map<string, { at: number; chinese: number | null }>();

  async function chineseShare(askerId: string, collectionIds: string[]): Promise<number | null> {
    const key = `${askerId}|${[...collectionIds].sort().join(',')}`;
    const cached = shares.get(key);
    if (cached && Date.now() - cached.at < LANGUAGE_TTL_MS) return cached.chinese;
    const openings = await createRetrievalRepository(db).documentOpenings(
      askerId,
      collectionIds.length ? collectionIds : null,
      SAMPLE_DOCUMENTS,
    );
    const chinese = openings.length ? openings.filter((t) => mainLanguage(t) === 'zh').length / openings.length : null;
    if (shares.size >= LANGUAGE_ENTRIES) shares.clear();
    shares.set(key, { at: Date.now(), chinese });
    return chinese;
  }

  return {
    async languageToAlsoSearch(askerId: string, collectionIds: string[], question: Language): Promise<Language | null> {
      const chinese = await chineseShare(askerId, collectionIds);
      if (chinese === null) return null;
      const other = question === 'zh' ? 1 - chinese : chinese;
      if (other <= 0.5) return null;
      return question === 'zh' ? 'en' : 'zh';
    },
  };
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
