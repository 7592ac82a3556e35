import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { compose } from '../composition.ts';
import { loadConfig } from '../config.ts';
import { hashPassword } from '../core/crypto/password.ts';
import { createPostgresDatabase } from '../core/db/postgres.ts';
import { createChunkRepository } from '../core/knowledge/chunk.repository.ts';
import { createDocumentRepository } from '../core/knowledge/document.repository.ts';
import { createLogger } from '../core/logger.ts';
import type { Actor } from '../core/policy/actor.ts';
import { createGroupRepository } from '../core/users/group.repository.ts';
import { createUserRepository } from '../core/users/user.repository.ts';
import { createApp } from '../http/app.ts';
import { EVAL_SETS, evalData } from './eval-data.ts';

/**
 * `npm run bench:search` (needs DATABASE_URL of a Postgres with pgvector; a scratch database is
 * created beside it and dropped afterwards): ingests every development passage (see eval-data.ts)
 * into COPIES collections (some restricted to a group the searcher is not in) with the offline
 * embedder, then sends every development question to POST /api/search over HTTP as an employee
 * and prints ingestion throughput and search latency p50/p95/p99.
 */
const COPIES = Number(process.env.BENCH_COPIES ?? '5');

async function readJsonl<T>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function main() {
  const base = process.env.DATABASE_URL;
  if (!base)
    throw new Error('Set DATABASE_URL to a Postgres server with pgvector (a scratch database is created there)');
  const name = `enclave_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-bench-'));
  const config = loadConfig({ DATABASE_URL: url.toString(), DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  const db = createPostgresDatabase(url.toString(), { max: 10 });
  const secret = 'bench-secret-bench-secret-bench-secret';
  const composition = await compose(config, createLogger('silent'), { db, secret });
  const { services, domain } = composition;
  const server = { close: () => {} } as { close: () => void };
  try {
    await services.jobs.startProcessing();
    const users = createUserRepository(db);
    const adminUser = await users.insert({
      email: 'bench-admin@example.test',
      name: 'Admin',
      passwordHash: null,
      role: 'admin',
    });
    const actor: Actor = {
      id: adminUser.id,
      email: adminUser.email,
      name: 'Admin',
      role: 'admin',
      credential: { kind: 'session', id: 'bench' },
    };
    const restricted = await createGroupRepository(db).insert({ name: 'Restricted', description: '' });
    const password = 'bench password that is long enough';
    await users.insert({
      email: 'bench-employee@example.test',
      name: 'Employee',
      passwordHash: await hashPassword(password),
      role: 'employee',
    });

    const passages: { title: string; text: string }[] = [];
    const questions: string[] = [];
    const data = evalData();
    process.stdout.write(`${data.note}\n`);
    for (const set of EVAL_SETS) {
      passages.push(
        ...(await readJsonl<{ title: string; text: string }>(path.join(data.root, set, 'dev-passages.jsonl'))),
      );
      questions.push(
        ...(await readJsonl<{ question: string }>(path.join(data.root, set, 'dev-questions.jsonl'))).map(
          (q) => q.question,
        ),
      );
    }
    const started = Date.now();
    for (let copy = 0; copy < COPIES; copy++) {
      // Two copies in five are readable only by a group the searcher is not in.
      const groups = copy % 5 === 1 || copy % 5 === 3 ? [restricted.id] : [];
      const collection = await domain.knowledge.createCollection(
        actor,
        { name: `Copy ${copy}`, groups },
        { ip: '127.0.0.1' },
      );
      for (const p of passages)
        await domain.knowledge.addSource(
          actor,
          collection.id,
          { kind: 'text', title: p.title, text: p.text },
          { ip: '127.0.0.1' },
        );
    }
    let last = 0;
    for (;;) {
      const { pending, ready } = await createDocumentRepository(db).statusCounts();
      if (Date.now() - last > 10_000) {
        process.stdout.write(`  ingested ${ready} documents…\n`);
        last = Date.now();
      }
      if (pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = (Date.now() - started) / 1000;
    const docs = (await createDocumentRepository(db).statusCounts()).total;
    const chunks = await createChunkRepository(db).count();
    process.stdout.write(
      `Ingested ${docs} documents → ${chunks} chunks in ${seconds.toFixed(1)} s: ${(docs / seconds).toFixed(1)} passages/s (offline embedder, Postgres, job concurrency ${2})\n`,
    );

    const app = createApp(services, domain);
    const http = app.listen(0, '127.0.0.1');
    server.close = () => {
      http.closeAllConnections();
      http.close();
    };
    await new Promise((resolve) => http.once('listening', resolve));
    const api = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const login = await fetch(`${api}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bench-employee@example.test', password }),
    });
    const { token } = (await login.json()) as { token: string };
    const search = async (query: string) => {
      const t = performance.now();
      const res = await fetch(`${api}/api/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, k: 8 }),
      });
      if (res.status !== 200) throw new Error(`search answered ${res.status}: ${await res.text()}`);
      await res.json();
      return performance.now() - t;
    };
    for (const q of questions.slice(0, 50)) await search(q); // warm-up
    const latencies: number[] = [];
    for (const q of questions) latencies.push(await search(q));
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `POST /api/search over ${chunks} chunks, ${latencies.length} queries one at a time: ` +
        `p50 ${pct(latencies, 0.5).toFixed(1)} ms, p95 ${pct(latencies, 0.95).toFixed(1)} ms, p99 ${pct(latencies, 0.99).toFixed(1)} ms\n`,
    );
  } finally {
    server.close();
    await composition.close(5000).catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
