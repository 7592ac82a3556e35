import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../../server/src/core/db/database.ts';
import { lexemes, runs, tsvectorLiteral } from '../../server/src/core/knowledge/text/tokenize.ts';
import { HNSW_INDEX_SQL } from '../../server/src/core/db/embedding-space.ts';
import { embedOffline, offlineFeatures } from '../../server/src/core/llm/offline-embedder.ts';
import { OFFLINE_EMBEDDING_DIMENSIONS } from '../../server/src/config.ts';
import { EVAL_SETS, evalData } from '../../server/src/cli/eval-data.ts';

/**
 * The retrieval corpus: N chunks built from the development passages (eval-data.ts), varied so no
 * two are the same (each round rotates a passage's sentences, drops one and borrows one from another
 * passage, under a numbered heading), embedded by the offline embedder and tokenised by the
 * ingester's own tokeniser, bulk-loaded with the indexes built after the load.
 *
 * Embedding 100k texts one by one costs ~4–7 ms each here (minutes). The offline embedding is a
 * hashed sum of per-run features with a log1p applied to the totals, and a sentence boundary is
 * always a run boundary, so a variant's features are the sums of its sentences' features: each
 * sentence is analysed once and variants are composed from them. A self-check compares composed
 * vectors with `embedOffline` of the variant's full text before loading.
 */

export const DATA_ROOT = evalData().root;

export interface Passage {
  id: string;
  title: string;
  text: string;
}

export function readJsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export function devPassages(): Passage[] {
  return EVAL_SETS.flatMap((s) => readJsonl<Passage>(path.join(DATA_ROOT, s, 'dev-passages.jsonl')));
}

export function devQuestions(): string[] {
  return EVAL_SETS.flatMap((s) =>
    readJsonl<{ question: string }>(path.join(DATA_ROOT, s, 'dev-questions.jsonl')).map((q) => q.question),
  );
}

/** Splits after sentence punctuation (never inside a word or a Han run). */
function sentences(text: string): string[] {
  return text.split(/(?<=[.!?。！？；;])\s*/u).filter((s) => s.trim());
}

interface Analysed {
  text: string;
  /** Interned feature ids and their additive raw weights. */
  features: Int32Array;
  weights: Float64Array;
  lexemes: string[];
  /** countTokens before its final ceil (additive over runs). */
  tokens: number;
}

const featureIds = new Map<string, number>();
const featureBucket: number[] = [];
const featureSign: number[] = [];

function intern(feature: string, dimensions: number): number {
  let id = featureIds.get(feature);
  if (id === undefined) {
    id = featureBucket.length;
    featureIds.set(feature, id);
    const digest = createHash('md5').update(feature).digest();
    featureBucket.push(digest.readUInt32LE(0) % dimensions);
    featureSign.push(digest[4]! & 1 ? 1 : -1);
  }
  return id;
}

function analyse(text: string, dimensions: number): Analysed {
  // offlineFeatures applies sign·log1p to the totals: undo it to get additive raw weights.
  const entries = [...offlineFeatures(text)];
  let tokens = 0;
  for (const run of runs(text)) tokens += run.han ? [...run.text].length : 1.3;
  return {
    text,
    features: Int32Array.from(entries, ([f]) => intern(f, dimensions)),
    weights: Float64Array.from(entries, ([, w]) => Math.sign(w) * Math.expm1(Math.abs(w))),
    lexemes: lexemes(text, 'index'),
    tokens,
  };
}

let sums = new Float64Array(0);
function compose(parts: Analysed[], dimensions: number): number[] {
  if (sums.length < featureBucket.length) sums = new Float64Array(featureBucket.length * 2);
  const touched: number[] = [];
  for (const p of parts) {
    for (let j = 0; j < p.features.length; j++) {
      const f = p.features[j]!;
      if (sums[f] === 0) touched.push(f);
      sums[f]! += p.weights[j]!;
    }
  }
  const vector = new Array<number>(dimensions).fill(0);
  for (const f of touched) {
    const w = sums[f]!;
    sums[f] = 0;
    vector[featureBucket[f]!]! += featureSign[f]! * Math.sign(w) * Math.log1p(Math.abs(w));
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((v) => v / norm);
}

export interface GeneratedChunk {
  text: string;
  embedding: number[];
  tsv: string;
  lexemeCount: number;
  tokenCount: number;
}

/** A generator of the corpus's chunks in order (deterministic for a given N). */
export function corpusGenerator(dimensions = OFFLINE_EMBEDDING_DIMENSIONS, maxPassages = Infinity) {
  const passages = devPassages().slice(0, maxPassages);
  const analysed = passages.map((p) => ({
    title: analyse(`${p.title}`, dimensions),
    sentences: sentences(p.text).map((t) => analyse(t, dimensions)),
  }));
  const P = passages.length;
  function parts(i: number): Analysed[] {
    const p = i % P;
    const round = Math.floor(i / P);
    const own = analysed[p]!;
    if (round === 0) return [own.title, ...own.sentences];
    const L = own.sentences.length;
    const rotated = [...own.sentences.slice(round % L), ...own.sentences.slice(0, round % L)];
    if (L > 2) rotated.splice(round % (L - 1), 1);
    const other = analysed[(p * 7919 + round * 104_729) % P]!;
    const borrowed = other.sentences[round % other.sentences.length]!;
    // A numbered heading makes every chunk distinct even where the sentence shuffles coincide.
    const heading = analyse(` ${round} `, dimensions);
    return [own.title, heading, ...rotated, borrowed];
  }
  const join = (ps: Analysed[]) => ps.map((a) => a.text.trim()).join('\n');
  return {
    passages: P,
    chunk(i: number): GeneratedChunk {
      const ps = parts(i);
      const tokens = ps.flatMap((a) => a.lexemes);
      const text = join(ps);
      return {
        text,
        embedding: compose(ps, dimensions),
        tsv: tsvectorLiteral(tokens),
        lexemeCount: tokens.length,
        tokenCount: Math.ceil(ps.reduce((n, a) => n + a.tokens, 0)),
      };
    },
    /** Largest |composed − embedOffline(text)| over a sample: ~1e-15 when composition is exact. */
    selfCheck(sample: number[]): number {
      let worst = 0;
      for (const i of sample) {
        const c = this.chunk(i);
        const direct = embedOffline(c.text, dimensions);
        for (let d = 0; d < dimensions; d++) worst = Math.max(worst, Math.abs(direct[d]! - c.embedding[d]!));
      }
      return worst;
    },
  };
}

export interface LoadCorpusArgs {
  chunks: number;
  /** Chunks per document. */
  perDocument: number;
  /** Group ids: documents go round-robin to public, public, groupA-only, groupB-only collections. */
  groupA: string;
  groupB: string;
  createdBy: string;
}

export interface LoadCorpusResult {
  chunks: number;
  documents: number;
  collections: { public: string; groupA: string; groupB: string };
  selfCheckMaxError: number;
  ms: { generate: number; insert: number; ginIndex: number; hnswIndex: number; analyze: number };
}

const BATCH = 500;

/** Bulk-loads the corpus into `db` (indexes dropped during the load, rebuilt after with the migration's definitions). */
export async function loadRetrievalCorpus(db: Database, args: LoadCorpusArgs): Promise<LoadCorpusResult> {
  const gen = corpusGenerator(OFFLINE_EMBEDDING_DIMENSIONS, args.chunks);
  const sample = [0, 1, gen.passages + 3, 2 * gen.passages + 17, args.chunks - 1].filter((i) => i < args.chunks);
  const selfCheckMaxError = gen.selfCheck(sample);
  if (selfCheckMaxError > 1e-9)
    throw new Error(`composed vectors differ from embedOffline by ${selfCheckMaxError}: the offline embedder changed`);

  const collection = async (name: string, group?: string) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO collections (name, created_by) VALUES ($1, $2) RETURNING id`,
      [name, args.createdBy],
    );
    if (group)
      await db.query(`INSERT INTO collection_groups (collection_id, group_id) VALUES ($1, $2)`, [rows[0]!.id, group]);
    return rows[0]!.id;
  };
  const collections = {
    public: await collection('Bench public'),
    groupA: await collection('Bench group A', args.groupA),
    groupB: await collection('Bench group B', args.groupB),
  };
  const collectionOf = (doc: number) =>
    [collections.public, collections.public, collections.groupA, collections.groupB][doc % 4]!;

  await db.exec('DROP INDEX IF EXISTS chunks_embedding_hnsw; DROP INDEX IF EXISTS chunks_tsv_gin;');
  const documents = Math.ceil(args.chunks / args.perDocument);
  const docIds: string[] = [];
  for (let d0 = 0; d0 < documents; d0 += 1000) {
    const n = Math.min(1000, documents - d0);
    const idx = Array.from({ length: n }, (_, j) => d0 + j);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO documents (collection_id, title, source, mime, sha256, status, progress, chunk_count, indexed_version, created_by)
       SELECT c, t, 'text', 'text/plain', s, 'ready', 1, $4, 1, $5 FROM unnest($1::uuid[], $2::text[], $3::text[]) AS x(c, t, s)
       RETURNING id`,
      [
        idx.map(collectionOf),
        idx.map((d) => `Bench document ${d}`),
        idx.map(() => randomBytes(16).toString('hex')),
        args.perDocument,
        args.createdBy,
      ],
    );
    docIds.push(...rows.map((r) => r.id));
  }
  // Generation (here) overlaps the previous batch's INSERT (in the database server) on Postgres.
  let generate = 0;
  let insert = 0;
  let inflight: Promise<unknown> | undefined;
  const literal = (v: readonly number[]) => `[${v.map((x) => (x === 0 ? '0' : String(x))).join(',')}]`;
  for (let i0 = 0; i0 < args.chunks; i0 += BATCH) {
    const t0 = performance.now();
    const n = Math.min(BATCH, args.chunks - i0);
    const batch = Array.from({ length: n }, (_, j) => gen.chunk(i0 + j));
    const docs = batch.map((_, j) => Math.floor((i0 + j) / args.perDocument));
    const params = [
      docs.map((d) => docIds[d]!),
      docs.map(collectionOf),
      batch.map((_, j) => (i0 + j) % args.perDocument),
      batch.map((c) => c.text),
      batch.map((c) => c.tokenCount),
      batch.map((c) => JSON.stringify({ lexemes: c.lexemeCount })),
      batch.map((c) => literal(c.embedding)),
      batch.map((c) => c.tsv),
    ];
    const t1 = performance.now();
    generate += t1 - t0;
    if (inflight) await inflight;
    insert += performance.now() - t1;
    inflight = db.query(
      `INSERT INTO chunks (document_id, collection_id, ord, text, token_count, metadata, embedding, tsv, kind)
       SELECT u.doc, u.col, u.ord, u.text, u.tokens, u.meta::jsonb, u.emb::vector, u.tsv::tsvector, 'passage'
       FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[])
         AS u(doc, col, ord, text, tokens, meta, emb, tsv)`,
      params,
    );
  }
  const t2 = performance.now();
  await inflight;
  insert += performance.now() - t2;
  const timed = async (sql: string) => {
    const t = performance.now();
    await db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('maintenance_work_mem', $1, true)`, [db.kind === 'pglite' ? '256MB' : '1GB']);
      if (db.kind === 'postgres') await tx.query(`SELECT set_config('max_parallel_maintenance_workers', '1', true)`);
      await tx.exec(sql);
    });
    return performance.now() - t;
  };
  const ginIndex = await timed('CREATE INDEX chunks_tsv_gin ON chunks USING gin (tsv)');
  const hnswIndex = await timed(HNSW_INDEX_SQL);
  const t = performance.now();
  await db.exec('ANALYZE chunks; ANALYZE documents;');
  const analyze = performance.now() - t;
  return {
    chunks: args.chunks,
    documents,
    collections,
    selfCheckMaxError,
    ms: { generate, insert, ginIndex, hnswIndex, analyze },
  };
}
