import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import MiniSearch from 'minisearch';
import { createChunkRepository } from '../core/knowledge/chunk.repository.ts';
import { DEFAULT_RETRIEVAL, type RetrievalSettings, type SearchMode } from '../core/knowledge/retrieval.service.ts';
import { lexemes } from '../core/knowledge/text/tokenize.ts';
import { halfOf, type Half } from './answer-cases.ts';
import { readJsonl, withIngestedCorpus, type DevPassage, type DevQuestion } from './eval-corpus.ts';
import { EVAL_SETS, evalData } from './eval-data.ts';

/**
 * `npm run eval`: ingests each development set (see eval-data.ts) through the real pipeline
 * (embedded PGlite in a temporary directory, offline embedder, in-process jobs), then asks every
 * question through the retrieval service and prints hit@1, hit@5 and MRR@10 for vector-only,
 * full-text-only and hybrid search, next to a BM25 peer (MiniSearch over the same passages with the
 * same tokenisation) computed in the same run.
 *
 *   npm run eval                          all sets
 *   npm run eval -- --sets cmrc2018,drcd  some sets
 *   npm run eval -- --data dir            the sets in dir (default: ENCLAVE_EVAL_DATA, else the sample)
 *   npm run eval -- --json out.json       also write the figures as JSON
 *   npm run eval -- --vector-weight 1 --text-weight 1 --rrf-k 60   fusion settings to try
 *   npm run eval -- --rerank-depth 0                                hybrid without the offline reranker
 *   npm run eval -- --k1 1.2 --b 0.75 --b-han 0.6 --delta 1        BM25 settings to try (--b-han: Han lexemes)
 */

interface Scores {
  hit1: number;
  hit5: number;
  mrr10: number;
}

function args() {
  const argv = process.argv.slice(2);
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string) => (get(name) === undefined ? undefined : Number(get(name)));
  const settings: Partial<RetrievalSettings> = {};
  if (num('vector-weight') !== undefined) settings.vectorWeight = num('vector-weight')!;
  if (num('text-weight') !== undefined) settings.textWeight = num('text-weight')!;
  if (num('rrf-k') !== undefined) settings.rrfK = num('rrf-k')!;
  if (num('rerank-depth') !== undefined) settings.rerankDepth = num('rerank-depth')!;
  const bm25 = Object.entries({ k1: num('k1'), b: num('b'), bHan: num('b-han'), delta: num('delta') }).filter(
    ([, value]) => value !== undefined,
  );
  if (bm25.length) settings.bm25 = { ...DEFAULT_RETRIEVAL.bm25, ...Object.fromEntries(bm25) };
  return {
    data: evalData(get('data')),
    sets: (get('sets') ?? EVAL_SETS.join(',')).split(',').filter(Boolean),
    json: get('json'),
    dump: get('dump'),
    limit: num('limit'),
    settings,
  };
}

/** Rank (1-based) of the first relevant item among the first 10, or 0. */
function score(ranks: number[]): Scores {
  const n = ranks.length || 1;
  return {
    hit1: ranks.filter((r) => r === 1).length / n,
    hit5: ranks.filter((r) => r >= 1 && r <= 5).length / n,
    mrr10: ranks.reduce((sum, r) => sum + (r >= 1 && r <= 10 ? 1 / r : 0), 0) / n,
  };
}

function rankOf(passageIds: string[][], target: string): number {
  const seen = new Set<string>();
  let rank = 0;
  for (const ids of passageIds) {
    const key = ids.join('|');
    if (seen.has(key)) continue; // several chunks of one document count once
    seen.add(key);
    rank += 1;
    if (ids.includes(target)) return rank;
    if (rank >= 10) break;
  }
  return 0;
}

/**
 * Scores over every question and over each half of answer-cases.ts's split (the halves
 * `npm run fit:answers` fits on and reports on): a method is only better if it is on both.
 */
function scoresByHalf(set: string, questions: DevQuestion[], ranks: Record<string, number[]>) {
  const halves = questions.map((q) => halfOf(set, q.id));
  const pick = (list: number[], half?: Half) => list.filter((_, i) => !half || halves[i] === half);
  return Object.fromEntries(
    Object.entries(ranks).map(([method, list]) => [
      method,
      { all: score(pick(list)), a: score(pick(list, 'a')), b: score(pick(list, 'b')) },
    ]),
  );
}

/** Per question, each half's ranked passage ids (for tuning fusion offline; `--dump file`). */
const dumps: Record<string, { question: DevQuestion; vector: string[][]; text: string[][] }[]> = {};

async function evaluateSet(name: string, dir: string, settings: Partial<RetrievalSettings>, limit?: number) {
  const passages = await readJsonl<DevPassage>(path.join(dir, 'dev-passages.jsonl'));
  let questions = await readJsonl<DevQuestion>(path.join(dir, 'dev-questions.jsonl'));
  if (limit) questions = questions.slice(0, limit);
  // Every passage is ingested as a document through the real pipeline.
  return withIngestedCorpus(name, passages, {}, async ({ services, domain, actor, passagesOf, ingestSeconds }) => {
    const chunkCount = await createChunkRepository(services.db).count();

    const results: Record<string, number[]> = {};
    const latencies: number[] = [];
    const dump = (dumps[name] = questions.map((question) => ({
      question,
      vector: [] as string[][],
      text: [] as string[][],
    })));
    for (const mode of ['vector', 'text', 'hybrid'] as SearchMode[]) {
      const ranks: number[] = [];
      for (const q of questions) {
        const t = performance.now();
        const hits = await domain.retrieval.search(actor, { query: q.question, k: 30 }, { mode, settings });
        if (mode === 'hybrid') latencies.push(performance.now() - t);
        ranks.push(
          rankOf(
            hits.map((h) => passagesOf.get(h.documentId) ?? []),
            q.passage_id,
          ),
        );
        if (mode !== 'hybrid') dump[ranks.length - 1]![mode] = hits.map((h) => passagesOf.get(h.documentId) ?? []);
      }
      results[mode] = ranks;
    }

    // The BM25 peer: MiniSearch over whole passages, same tokenisation.
    const mini = new MiniSearch<DevPassage>({
      fields: ['text'],
      idField: 'id',
      tokenize: (text, field) => (field === undefined ? lexemes(text, 'query') : lexemes(text, 'index')),
      processTerm: (term) => term,
      searchOptions: { combineWith: 'OR', tokenize: (text) => lexemes(text, 'query'), processTerm: (term) => term },
    });
    mini.addAll(passages.filter((p, i) => passages.findIndex((o) => o.text === p.text) === i));
    const textToIds = new Map<string, string[]>();
    for (const p of passages) textToIds.set(p.text, [...(textToIds.get(p.text) ?? []), p.id]);
    const byId = new Map(passages.map((p) => [p.id, p]));
    results.bm25 = questions.map((q) =>
      rankOf(
        mini
          .search(q.question)
          .slice(0, 10)
          .map((r) => textToIds.get(byId.get(String(r.id))!.text)!),
        q.passage_id,
      ),
    );
    latencies.sort((a, b) => a - b);
    return {
      name,
      passages: passages.length,
      chunks: chunkCount,
      questions: questions.length,
      ingestSeconds,
      passagesPerSecond: passages.length / ingestSeconds,
      searchP50Ms: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
      results: scoresByHalf(name, questions, results),
    };
  });
}

const fmt = (n: number) => n.toFixed(3);

async function main() {
  const options = args();
  process.stdout.write(`${options.data.note}\n`);
  const all: Awaited<ReturnType<typeof evaluateSet>>[] = [];
  process.stdout.write(
    `Offline embedder, embedded PGlite; fusion ${JSON.stringify({ ...DEFAULT_RETRIEVAL, ...options.settings })}\n\n`,
  );
  for (const set of options.sets) {
    const result = await evaluateSet(set, path.join(options.data.root, set), options.settings, options.limit);
    all.push(result);
    process.stdout.write(
      `${set}: ${result.passages} passages → ${result.chunks} chunks in ${result.ingestSeconds.toFixed(1)} s ` +
        `(${result.passagesPerSecond.toFixed(1)} passages/s), ${result.questions} questions, hybrid search p50 ${result.searchP50Ms.toFixed(1)} ms\n`,
    );
  }
  const header =
    '| set | method | hit@1 | hit@5 | MRR@10 | MRR@10 half a | MRR@10 half b |\n| --- | --- | --- | --- | --- | --- | --- |\n';
  let table = header;
  for (const r of all) {
    for (const method of ['vector', 'text', 'hybrid', 'bm25']) {
      const { all: s, a, b } = r.results[method]!;
      table += `| ${r.name} | ${method === 'bm25' ? 'BM25 peer (MiniSearch)' : method} | ${fmt(s.hit1)} | ${fmt(s.hit5)} | ${fmt(s.mrr10)} | ${fmt(a.mrr10)} | ${fmt(b.mrr10)} |\n`;
    }
  }
  process.stdout.write(`\n${table}\n`);
  const halves = ['all', 'a', 'b'] as const;
  const below = (r: (typeof all)[number]) =>
    halves.filter((h) => r.results.hybrid![h].mrr10 < r.results.bm25![h].mrr10);
  const verdicts = all.map((r) => {
    const pairs = halves.map((h) => `${h} ${fmt(r.results.hybrid![h].mrr10)} vs ${fmt(r.results.bm25![h].mrr10)}`);
    return `${r.name}: hybrid ${below(r).length ? '<' : '≥'} BM25 on MRR@10 (${pairs.join(', ')})`;
  });
  process.stdout.write(`${verdicts.join('\n')}\n`);
  if (options.json) await writeFile(options.json, JSON.stringify(all, null, 2));
  if (options.dump) await writeFile(options.dump, JSON.stringify(dumps));
  process.exitCode = all.some((r) => below(r).length) ? 1 : 0;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Evaluation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
