import path from 'node:path';
import { lexemes, tsvectorLiteral } from '../../server/src/core/knowledge/text/tokenize.ts';
import { DEFAULT_SPLIT, splitSections } from '../../server/src/core/knowledge/text/splitter.ts';
import { embedOffline } from '../../server/src/core/llm/offline-embedder.ts';
import { OFFLINE_EMBEDDING_DIMENSIONS } from '../../server/src/config.ts';
import { pdfFile } from '../../test/knowledge/fixtures.ts';
import { processCpuMs, startChild, type ChildHandle } from '../lib/child.ts';
import { mapLimit, must } from '../lib/http.ts';
import { summarizeProfile } from '../lib/profile.ts';
import { machineInfo, RESULTS_DIR, slowest, type ScenarioResult } from '../lib/report.ts';
import type { Deployment } from '../lib/backends.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { sleep } from '../lib/stats.ts';
import { devPassages, type Passage } from './retrieval-data.ts';

/**
 * Ingestion end to end: passages pasted through `POST /api/collections/:id/documents`, parsed,
 * split, embedded (offline embedder), indexed by the worker until every document is `ready`
 * (searchable) — first one document per passage (every passage pays a document's whole overhead:
 * request, audit, queue, transaction), the same through the bulk import (many documents a request,
 * indexed in batches of one transaction each), then the same passages as Markdown handbooks of several
 * sections (how manuals and policies arrive); and a generated multi-page PDF uploaded the same way. Baseline: the pipeline's
 * own CPU floor — split + embed + tokenise the same passages in one process, no API, queue or database.
 */
function settings(quick: boolean) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const perHandbook = env('BENCH_INGEST_PER_DOCUMENT', 10);
  const perRequest = env('BENCH_INGEST_PER_REQUEST', 100);
  return quick
    ? {
        passages: env('BENCH_INGEST_PASSAGES', 10),
        pdfPages: env('BENCH_INGEST_PDF_PAGES', 2),
        perHandbook,
        perRequest: Math.min(perRequest, 5),
      }
    : {
        passages: env('BENCH_INGEST_PASSAGES', 600),
        pdfPages: env('BENCH_INGEST_PDF_PAGES', 30),
        perHandbook,
        perRequest,
      };
}

/** A minimal valid PDF (Helvetica, one passage per page, wrapped lines) — no dependency, ASCII text. */
export function makePdf(pages: string[]): Buffer {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body);
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(''); // pages, filled below
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids: number[] = [];
  for (const text of pages) {
    const words = text.replace(/[^\x20-\x7e]/g, ' ').split(/\s+/);
    const lines: string[] = [];
    let line = '';
    for (const w of words) {
      if ((line + ' ' + w).length > 95) {
        lines.push(line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    if (line) lines.push(line);
    const esc = (s: string) => s.replace(/[\\()]/g, '\\$&');
    const stream = `BT /F1 10 Tf 12 TL 50 790 Td ${lines
      .slice(0, 60)
      .map((l) => `(${esc(l)}) '`)
      .join(' ')} ET`;
    add(`<< /Length ${Buffer.byteLength(stream)} >>\nstream\n${stream}\nendstream`);
    const contentId = objects.length;
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentId} 0 R >>`,
    );
    kids.push(objects.length);
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  return pdfFile(objects, 1, '1.4');
}

async function waitReady(
  server: ChildHandle,
  collectionId: string,
  count: number,
  timeoutMs: number,
): Promise<{ ready: number; failed: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await server.call<{ ready: number; failed: number }[]>('sql', {
      sql: `SELECT count(*) FILTER (WHERE status = 'ready')::int AS ready, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM documents WHERE collection_id = $1`,
      params: [collectionId],
    });
    if (row!.ready + row!.failed >= count || Date.now() > deadline) return row!;
    await sleep(50);
  }
}

interface Ingested {
  documents: number;
  passages: number;
  seconds: number;
  ready: number;
  failed: number;
  chunks: number;
  /** Mean POST time, queue wait and worker time per document (ms). */
  postMs: number;
  waitMs: number;
  workMs: number;
  /** The server process's CPU time (all threads) over the run (ms). */
  serverCpuMs: number;
  /** PostgreSQL's CPU time (all its processes on this machine) over the run (ms); undefined without `/proc`. */
  databaseCpuMs: number | undefined;
}

/**
 * Posts the documents (8 requests at once) into a new collection and waits until every one is ready
 * or failed: one document a request, or `perRequest` at a time through the bulk import.
 */
async function ingest(
  run: { server: ChildHandle; token: string; deployment: Deployment },
  name: string,
  documents: { title: string; text: string; passages: number }[],
  perRequest = 1,
): Promise<Ingested> {
  const { server, token } = run;
  const collection = (await must([201], server.url, 'POST', '/api/collections', token, { name })).collection
    .id as string;
  await run.deployment.quiesce();
  const requests = Array.from({ length: Math.ceil(documents.length / perRequest) }, (_, i) =>
    documents.slice(i * perRequest, (i + 1) * perRequest),
  );
  const cpuBefore = await server.call<NodeJS.CpuUsage>('cpu');
  const databaseBefore = processCpuMs('postgres');
  const started = performance.now();
  let postMs = 0;
  await mapLimit(requests, 8, async (batch) => {
    const t = performance.now();
    if (perRequest === 1) {
      await must([202], server.url, 'POST', `/api/collections/${collection}/documents`, token, {
        title: batch[0]!.title,
        text: batch[0]!.text,
      });
    } else {
      await must([202], server.url, 'POST', `/api/collections/${collection}/documents/bulk`, token, {
        documents: batch.map((d) => ({ title: d.title, text: d.text })),
      });
    }
    postMs += (performance.now() - t) / batch.length;
  });
  const done = await waitReady(server, collection, documents.length, 600_000);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = await server.call<NodeJS.CpuUsage>('cpu');
  const databaseAfter = processCpuMs('postgres');
  const [timing] = await server.call<{ wait: number; work: number; chunks: number }[]>('sql', {
    sql: `SELECT avg(extract(epoch FROM started_at - created_at))::float8 * 1000 AS wait, avg(extract(epoch FROM finished_at - started_at))::float8 * 1000 AS work, sum(chunk_count)::int AS chunks FROM documents WHERE collection_id = $1`,
    params: [collection],
  });
  return {
    documents: documents.length,
    passages: documents.reduce((a, d) => a + d.passages, 0),
    seconds,
    ready: done.ready,
    failed: done.failed,
    chunks: timing!.chunks,
    postMs: postMs / documents.length,
    waitMs: timing!.wait,
    workMs: timing!.work,
    serverCpuMs: (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000,
    databaseCpuMs:
      databaseBefore === undefined || databaseAfter === undefined ? undefined : databaseAfter - databaseBefore,
  };
}

export const ingestion: Scenario = {
  name: 'ingestion',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const { deployment, log } = ctx;
    const s = settings(ctx.quick);
    // Distinct texts only (a re-upload of identical content is a no-op by design), every set in proportion.
    const seenText = new Set<string>();
    const all = devPassages().filter((p) => !seenText.has(p.text) && seenText.add(p.text));
    const stride = Math.max(1, Math.floor(all.length / s.passages));
    const passages: Passage[] = Array.from(
      { length: Math.min(s.passages, all.length) },
      (_, i) => all[(i * stride) % all.length]!,
    );

    // Baseline: the CPU floor of the same work, in this process (warmed: jieba's dictionary, the IDF table).
    for (const p of all.slice(-5)) embedOffline(lexemes(p.text, 'index').join(' '), OFFLINE_EMBEDDING_DIMENSIONS);
    const t0 = performance.now();
    for (const p of passages) {
      const pieces = await splitSections([{ text: p.text }], DEFAULT_SPLIT);
      for (const piece of pieces) {
        embedOffline(piece.text, OFFLINE_EMBEDDING_DIMENSIONS);
        tsvectorLiteral(lexemes(piece.text, 'index'));
      }
    }
    const floorSeconds = (performance.now() - t0) / 1000;

    const server = await startChild('enclave-server.ts', deployment.env);
    try {
      const [admin] = await server.call<{ id: string; token: string }[]>('users', {
        count: 1,
        role: 'admin',
        label: 'ingest',
      });
      const token = admin!.token;
      // Untimed: the first documents pay for JIT compilation, loading jieba's dictionary and the IDF
      // table and filling connection pools (300 measured documents gave half the rate of 1,000).
      const warmUp = all.slice(-Math.min(40, Math.max(4, s.passages / 10)));
      const run = { server, token, deployment };
      await ingest(
        run,
        'Bench warm-up',
        warmUp.map((p, i) => ({ title: `warm-up ${i}`, text: `${p.text}\n\nwarm-up ${i}`, passages: 1 })),
      );
      const profileFile = ctx.profile
        ? path.join(RESULTS_DIR, `ingestion-${deployment.backend}.cpuprofile`)
        : undefined;
      await server.call('traceStart');
      log(`  ${s.passages} passages, one document each, through the API…`);
      const oneEach = passages.map((p, i) => ({ title: `${p.title} #${i}`, text: p.text, passages: 1 }));
      const singles = await ingest(run, 'Bench ingestion', oneEach);
      const trace = await server.call<{ statements: { sql: string; n: number; totalMs: number; meanMs: number }[] }>(
        'traceStop',
      );
      // The same passages as handbooks: Markdown documents of several sections, one passage each.
      const handbooks: { title: string; text: string; passages: number }[] = [];
      for (let i = 0; i < passages.length; i += s.perHandbook) {
        const part = passages.slice(i, i + s.perHandbook);
        handbooks.push({
          title: `Handbook ${i / s.perHandbook + 1}`,
          text: part.map((p, j) => `## ${p.title} ${i + j}\n\n${p.text}`).join('\n\n'),
          passages: part.length,
        });
      }
      log(`  the same passages, one document each, ${s.perRequest} a request (bulk import)…`);
      if (profileFile) await server.call('profileStart');
      const imported = await ingest(run, 'Bench bulk import', oneEach, s.perRequest);
      if (profileFile) await server.call('profileStop', { file: profileFile });
      log(`  the same passages as ${handbooks.length} handbooks of ${s.perHandbook} sections…`);
      const books = await ingest(run, 'Bench handbooks', handbooks);
      log(`  a ${s.pdfPages}-page PDF…`);
      const english = all.filter((p) => /^[\x20-\x7e\s]+$/.test(p.text.slice(0, 200)));
      const pdf = makePdf(Array.from({ length: s.pdfPages }, (_, i) => english[i % english.length]!.text));
      const pdfCollection = (await must([201], server.url, 'POST', '/api/collections', token, { name: 'Bench PDF' }))
        .collection.id as string;
      const form = new FormData();
      form.append('file', new Blob([pdf], { type: 'application/pdf' }), 'bench.pdf');
      const pdfStarted = performance.now();
      const res = await fetch(`${server.url}/api/collections/${pdfCollection}/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
      if (res.status !== 202) throw new Error(`PDF upload answered ${res.status}: ${await res.text()}`);
      const pdfDone = await waitReady(server, pdfCollection, 1, 300_000);
      const pdfSeconds = (performance.now() - pdfStarted) / 1000;
      const [pdfDoc] = await server.call<{ page_count: number; status: string; error: string | null }[]>('sql', {
        sql: 'SELECT page_count, status, error FROM documents WHERE collection_id = $1',
        params: [pdfCollection],
      });
      if (pdfDone.failed) throw new Error(`the PDF failed to ingest: ${pdfDoc?.error}`);

      const floorRate = s.passages / floorSeconds;
      const rate = (run: Ingested) => run.passages / run.seconds;
      const profile = profileFile ? await summarizeProfile(profileFile) : undefined;
      const stages = {
        'POST (ms each, 8 at once)': singles.postMs,
        'queued before the worker took it (ms avg)': singles.waitMs,
        'worker: parse→split→embed→index (ms avg)': singles.workMs,
        'server CPU per passage, one per document (ms)': singles.serverCpuMs / singles.passages,
        'server CPU per passage, bulk import (ms)': imported.serverCpuMs / imported.passages,
        'server CPU per passage, in handbooks (ms)': books.serverCpuMs / books.passages,
        // PGlite is inside the server process: its share is in the server's CPU.
        ...(deployment.backend === 'postgres' && imported.databaseCpuMs !== undefined
          ? {
              'PostgreSQL CPU per passage, one per document (ms)': singles.databaseCpuMs! / singles.passages,
              'PostgreSQL CPU per passage, bulk import (ms)': imported.databaseCpuMs / imported.passages,
            }
          : {}),
        'CPU floor: split+embed+tokenise (ms each)': (floorSeconds * 1000) / s.passages,
      };
      const row = (metric: string, run: Ingested) => {
        const value = rate(run);
        return {
          metric,
          value,
          unit: '/s',
          baseline: floorRate,
          ratio: value / floorRate,
          target: '≥ 200/s',
          ok: value >= 200,
        };
      };
      return {
        scenario: 'ingestion',
        backend: deployment.backend,
        quick: ctx.quick,
        baseline:
          'split + offline-embed + tokenise the same passages in one process (the pipeline’s CPU floor, no API, queue or database)',
        rows: [
          row('passages/s, one document each (API → ready)', singles),
          row(`passages/s, one document each, ${s.perRequest} a request (bulk import → ready)`, imported),
          row(`passages/s, handbooks of ${s.perHandbook} sections (API → ready)`, books),
          {
            metric: 'PDF pages/s (upload → ready)',
            value: (pdfDoc?.page_count ?? s.pdfPages) / pdfSeconds,
            unit: '/s',
          },
          {
            metric: 'failed documents',
            value: singles.failed + imported.failed + books.failed,
            unit: '',
            target: '0',
            ok: singles.failed + imported.failed + books.failed === 0,
          },
          {
            metric: 'chunks indexed (one each | bulk | handbooks)',
            value: singles.chunks,
            unit: `| ${imported.chunks} | ${books.chunks}`,
          },
        ],
        stages,
        slowestStage:
          slowest({ queueWait: singles.waitMs, worker: singles.workMs }) === 'worker'
            ? 'the worker (parse→split→embed→index)'
            : 'waiting in the queue (the worker is the bottleneck; JOB_CONCURRENCY documents at once)',
        details: {
          settings: s,
          sqlTrace: trace,
          singles,
          bulkImport: imported,
          handbooks: books,
          floorSeconds,
          pdf: { pages: pdfDoc?.page_count, seconds: pdfSeconds, bytes: pdf.length },
          ...(profile ? { profile } : {}),
        },
        machine: machineInfo(),
      };
    } finally {
      await server.stop();
    }
  },
};
