import path from 'node:path';
import { createPostgresDatabase } from '../../server/src/core/db/postgres.ts';
import { lexemes } from '../../server/src/core/knowledge/text/tokenize.ts';
import type { CorpusStats } from '../../server/src/core/knowledge/retrieval.repository.ts';
import { DEFAULT_RETRIEVAL } from '../../server/src/core/knowledge/retrieval.service.ts';
import { toVectorLiteral } from '../../server/src/core/llm/embedding-provider.ts';
import { embedOffline } from '../../server/src/core/llm/offline-embedder.ts';
import { OFFLINE_EMBEDDING_DIMENSIONS } from '../../server/src/config.ts';
import { startChild } from '../lib/child.ts';
import { summarizeProfile } from '../lib/profile.ts';
import { machineInfo, RESULTS_DIR, slowest, type Row, type ScenarioResult } from '../lib/report.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { summarize } from '../lib/stats.ts';
import { devQuestions, type LoadCorpusResult } from './retrieval-data.ts';
import { halfSplit, timeHybridSql, vectorRecall, type HybridQuery } from './retrieval-timing.ts';

/**
 * Retrieval: N chunks (see retrieval-data.ts) in a public collection, one readable by the
 * searcher's group and one readable only by another group; `POST /api/search` (k = 8) as that
 * employee at concurrency 1 and 8, against the same hybrid SQL sent directly — through `pg` on
 * Postgres, timed inside the server process on PGlite (which has no wire protocol) — and HNSW
 * recall@10 against an exact scan at the ef_search the search uses.
 */
function settings(quick: boolean, backend: string) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  if (quick)
    return { chunks: env('BENCH_RETRIEVAL_CHUNKS', 300), seconds: env('BENCH_RETRIEVAL_SECONDS', 1), recallQueries: 5 };
  // PGlite builds HNSW 6–7× slower than Postgres: 100k there alone would take most of the budget.
  return {
    chunks: env('BENCH_RETRIEVAL_CHUNKS', backend === 'postgres' ? 100_000 : 10_000),
    seconds: env('BENCH_RETRIEVAL_SECONDS', 8),
    recallQueries: 40,
  };
}

const K = 8;

export const retrieval: Scenario = {
  name: 'retrieval',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const { deployment, log } = ctx;
    const s = settings(ctx.quick, deployment.backend);
    const server = await startChild('enclave-server.ts', deployment.env);
    const direct = deployment.databaseUrl ? createPostgresDatabase(deployment.databaseUrl, { max: 10 }) : undefined;
    try {
      const [groupA, groupB] = (
        await server.call<{ id: string }[]>('sql', {
          sql: `INSERT INTO groups (name) VALUES ('Bench A'), ('Bench B') RETURNING id`,
        })
      ).map((r) => r.id);
      const [searcher] = await server.call<{ id: string; token: string }[]>('users', {
        count: 1,
        groupIds: [groupA],
        label: 'searcher',
      });
      const [owner] = await server.call<{ id: string; token: string }[]>('users', {
        count: 1,
        role: 'admin',
        label: 'owner',
      });
      log(`  loading ${s.chunks.toLocaleString('en-US')} chunks (bulk SQL, indexes after)…`);
      const load = await server.call<LoadCorpusResult>(
        'loadCorpus',
        { chunks: s.chunks, perDocument: 20, groupA, groupB, createdBy: owner!.id },
        900_000,
      );
      log(
        `  loaded: generate ${(load.ms.generate / 1000).toFixed(1)} s, insert ${(load.ms.insert / 1000).toFixed(1)} s, GIN ${(load.ms.ginIndex / 1000).toFixed(1)} s, HNSW ${(load.ms.hnswIndex / 1000).toFixed(1)} s`,
      );

      const questions = devQuestions();
      // A fixed, interleaved sample of the five sets' questions.
      const ordered = questions
        .map((q, i) => ({ q, key: (i * 2_654_435_761) % 4_294_967_296 }))
        .sort((a, b) => a.key - b.key)
        .map((x) => x.q)
        .slice(0, ctx.quick ? 80 : 600);
      const queries: (HybridQuery & { text: string })[] = ordered.map((text) => ({
        text,
        vector: toVectorLiteral(embedOffline(text, OFFLINE_EMBEDDING_DIMENSIONS)),
        terms: lexemes(text, 'query'),
      }));

      const viaApi = async (concurrency: number, offset: number) => {
        const latencies: number[] = [];
        const deadline = Date.now() + s.seconds * 1000;
        let next = offset;
        let errors = 0;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (Date.now() < deadline) {
              const q = queries[next++ % queries.length]!;
              const t = performance.now();
              const res = await fetch(`${server.url}/api/search`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${searcher!.token}` },
                body: JSON.stringify({ query: q.text, k: K }),
              });
              await res.arrayBuffer();
              if (res.status !== 200) errors += 1;
              latencies.push(performance.now() - t);
            }
          }),
        );
        return { latencies, errors };
      };
      let stats: CorpusStats | null = null;
      const viaSql = async (concurrency: number, offset: number) => {
        const slice = [...queries.slice(offset), ...queries.slice(0, offset)].map(({ vector, terms }) => ({
          vector,
          terms,
        }));
        const args = { userId: searcher!.id, queries: slice, stats, k: K, concurrency, maxMs: s.seconds * 1000 };
        const out = direct
          ? await timeHybridSql(direct, args)
          : await server.call<{ latencies: number[]; stats: CorpusStats }>('timedHybrid', args);
        stats = out.stats;
        return out.latencies;
      };

      // Warm both paths (caches, prepared plans, the BM25 stats cache), then alternate so drift hits both.
      await viaApi(2, 0);
      await viaSql(2, 0);
      const profileFile = ctx.profile
        ? path.join(RESULTS_DIR, `retrieval-${deployment.backend}.cpuprofile`)
        : undefined;
      const rows: Row[] = [];
      const measured: Record<string, unknown> = {};
      for (const concurrency of [1, 8]) {
        log(`  concurrency ${concurrency}: direct SQL, then /api/search (${s.seconds} s each)…`);
        await deployment.quiesce();
        const sql = summarize(await viaSql(concurrency, 100));
        await deployment.quiesce();
        if (profileFile && concurrency === 1) await server.call('profileStart');
        const apiRun = await viaApi(concurrency, 100);
        if (profileFile && concurrency === 1) await server.call('profileStop', { file: profileFile });
        const apiS = summarize(apiRun.latencies);
        measured[`c${concurrency}`] = { api: apiS, sql, apiErrors: apiRun.errors };
        rows.push(
          {
            metric: `/api/search p50 @${concurrency}`,
            value: apiS.p50,
            unit: 'ms',
            baseline: sql.p50,
            ratio: apiS.p50 / sql.p50,
            target: concurrency === 1 ? (deployment.backend === 'postgres' ? '≤ 2×, ≤ 25 ms' : '≤ 2×') : '≤ 2×',
            ok: apiS.p50 / sql.p50 <= 2 && (concurrency !== 1 || deployment.backend !== 'postgres' || apiS.p50 <= 25),
          },
          {
            metric: `/api/search p99 @${concurrency}`,
            value: apiS.p99,
            unit: 'ms',
            baseline: sql.p99,
            ratio: apiS.p99 / sql.p99,
            target: '≤ 2×',
            ok: apiS.p99 / sql.p99 <= 2,
          },
          {
            metric: `searches/s @${concurrency}`,
            value: apiS.n / s.seconds,
            unit: '/s',
            baseline: sql.n / s.seconds,
            ratio: apiS.n / sql.n,
          },
        );
      }
      const ef = Math.max(
        DEFAULT_RETRIEVAL.efSearch,
        Math.max(K * DEFAULT_RETRIEVAL.candidateFactor, DEFAULT_RETRIEVAL.minCandidates),
      );
      log(`  recall@10 at ef_search ${ef} over ${s.recallQueries} queries (exact scan baseline)…`);
      const recallArgs = {
        userId: searcher!.id,
        vectors: queries.slice(0, s.recallQueries).map((q) => q.vector),
        efSearch: ef,
        k: 10,
      };
      const recall = direct
        ? await vectorRecall(direct, recallArgs)
        : await server.call<Awaited<ReturnType<typeof vectorRecall>>>('recall', recallArgs);
      rows.push(
        {
          metric: `HNSW recall@10 (ef_search ${ef})`,
          value: recall.recall,
          unit: '',
          baseline: 1,
          ratio: recall.recall,
          target: '≥ 0.95',
          ok: recall.recall >= 0.95,
        },
        {
          metric: 'vector half: HNSW vs exact scan',
          value: recall.hnswMs,
          unit: 'ms',
          baseline: recall.exactMs,
          ratio: recall.hnswMs / recall.exactMs,
        },
      );
      const splitArgs = {
        userId: searcher!.id,
        queries: queries.slice(-s.recallQueries).map(({ vector, terms }) => ({ vector, terms })),
      };
      const split = direct
        ? await halfSplit(direct, splitArgs)
        : await server.call<Awaited<ReturnType<typeof halfSplit>>>('halfSplit', splitArgs);
      rows.push({
        metric: 'chunks sharing a lexeme with the query',
        value: split.candidates,
        unit: `of ${split.corpus}`,
      });
      const profile = profileFile ? await summarizeProfile(profileFile) : undefined;
      const c1 = measured.c1 as { api: { p50: number }; sql: { p50: number } };
      const stages = {
        'generate+embed (load, s)': load.ms.generate / 1000,
        'insert, not overlapped with generation (load, s)': load.ms.insert / 1000,
        'GIN build (load, s)': load.ms.ginIndex / 1000,
        'HNSW build (load, s)': load.ms.hnswIndex / 1000,
      };
      return {
        scenario: 'retrieval',
        backend: deployment.backend,
        quick: ctx.quick,
        baseline: `the same hybrid SQL (one transaction: ef_search, vector half, BM25 half, rows) ${direct ? 'through `pg` from the bench' : 'timed inside the server process (PGlite)'}; recall against an exact scan`,
        rows,
        stages: {
          ...stages,
          'search: vector half (mean ms)': split.vectorMs,
          'search: BM25 half (mean ms)': split.textMs,
          'search: rows (mean ms)': split.hitsMs,
          'search: SQL total (p50 ms)': c1.sql.p50,
          'search: HTTP+auth+embed+fuse (p50 ms)': c1.api.p50 - c1.sql.p50,
        },
        slowestStage: `load: ${slowest(stages)}; search: ${slowest({ 'the BM25 half (fullText SQL)': split.textMs, 'the vector half (HNSW)': split.vectorMs, 'the rows query': split.hitsMs, 'outside the SQL (HTTP, auth, embedding the query)': c1.api.p50 - c1.sql.p50 })}`,
        details: { settings: s, load, measured, recall, split, ...(profile ? { profile } : {}) },
        machine: machineInfo(),
      };
    } finally {
      await direct?.close();
      await server.stop();
    }
  },
};
