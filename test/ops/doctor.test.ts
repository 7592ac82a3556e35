import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entropyBits, checkNode } from '../../server/src/cli/doctor-checks.ts';
import { createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { requires, tool } from '../support/requires-tool.ts';
import { startFakeRerank } from '../support/fake-rerank.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';

/* `npm run doctor` as an operator runs it: a child process with an environment, its table read back. */

interface Row {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

async function doctor(env: Record<string, string | undefined>, args: string[] = []) {
  const proc = spawnTs('server/src/cli/doctor.ts', args, { env: childEnv({ LOG_LEVEL: 'silent', ...env }) });
  const exit = await proc.waitForExit(90_000);
  return { code: exit.code, stdout: proc.stdout(), stderr: proc.stderr() };
}

async function doctorRows(env: Record<string, string | undefined>) {
  const result = await doctor(env, ['--json']);
  return { ...result, rows: JSON.parse(result.stdout) as Row[] };
}

const row = (rows: Row[], check: string) => {
  const found = rows.find((r) => r.check === check);
  expect(found, `row ${check} in ${JSON.stringify(rows.map((r) => r.check))}`).toBeDefined();
  return found!;
};

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let dataDir: string;
let fakeModel: Server;
let fakeModelUrl: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-doctor-'));
  // An OpenAI-compatible server on loopback whose embeddings have the wrong size (384, not 512).
  fakeModel = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/models') return res.end(JSON.stringify({ data: [{ id: 'fake-chat' }, { id: 'fake-embed' }] }));
    if (req.url === '/v1/embeddings') {
      return res.end(
        JSON.stringify({
          data: [{ index: 0, embedding: Array.from({ length: 384 }, (_, i) => i / 384) }],
          model: 'fake-embed',
        }),
      );
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => fakeModel.listen(0, '127.0.0.1', resolve));
  fakeModelUrl = `http://127.0.0.1:${(fakeModel.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await killAllChildren();
  await new Promise((resolve) => fakeModel.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm run doctor', () => {
  it('passes a healthy embedded setup (exit 0) and prints the table with every check', async () => {
    const { code, stdout, stderr } = await doctor({ DATA_DIR: dataDir });
    expect(code, stdout + stderr).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(/^check\s+status\s+detail\s+fix$/);
    for (const check of [
      'node',
      'database',
      'pgvector',
      'migrations',
      'clock skew',
      'outbox',
      'redis',
      'chat model',
      'embeddings',
      'reranker',
      'disk space',
      'SESSION_SECRET',
      'ADMIN_PASSWORD',
    ]) {
      expect(
        lines.some((l) => l.startsWith(`${check} `)),
        check,
      ).toBe(true);
    }
    expect(stdout).toMatch(/^database\s+ok\s+embedded PGlite/m);
    expect(stdout).toMatch(/^pgvector\s+ok\s+vector 0\.8\.\d+.*iterative index scans available/m);
    expect(stdout).toMatch(/^reranker\s+ok\s+built-in offline reranker \(RERANK_BASE_URL not set\)/m);
    expect(stdout).toMatch(/No blocking problem/);
  }, 120_000);

  it('fails a broken setup (exit 1) naming each failing row with a fix', async () => {
    const [pgPort, redisPort] = [await closedPort(), await closedPort()];
    const { code, rows, stderr } = await doctorRows({
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      DATABASE_URL: `postgres://enclave:hunter2@127.0.0.1:${pgPort}/enclave`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      SESSION_SECRET: 'change-me-change-me-change-me-change-me',
      ADMIN_PASSWORD: 'password1234',
      OPENAI_BASE_URL: fakeModelUrl,
      CHAT_MODEL: 'fake-chat',
      EMBEDDING_MODEL: 'fake-embed',
      EMBEDDING_DIMENSIONS: '512',
      RERANK_BASE_URL: `http://127.0.0.1:${redisPort}`,
      RERANK_MODEL: 'bge-reranker-v2-m3',
    });
    expect(code, stderr).toBe(1);
    const failing = rows.filter((r) => r.status === 'fail').map((r) => r.check);
    expect(failing).toEqual(expect.arrayContaining(['database', 'redis', 'embeddings', 'reranker', 'SESSION_SECRET']));
    for (const r of rows.filter((x) => x.status === 'fail')) expect(r.fix, r.check).toBeTruthy();
    expect(row(rows, 'database').detail).toMatch(/cannot reach postgres:\/\/enclave:\*\*\*@127\.0\.0\.1/);
    expect(row(rows, 'database').detail).not.toContain('hunter2');
    expect(row(rows, 'redis').detail).toMatch(/cannot reach redis:\/\/127\.0\.0\.1/);
    expect(row(rows, 'embeddings')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/returned 384 dimensions; the configuration says 512/),
    });
    expect(row(rows, 'embeddings').fix).toContain('EMBEDDING_DIMENSIONS=384');
    expect(row(rows, 'chat model')).toMatchObject({ status: 'ok', detail: expect.stringContaining('fake-chat') });
    expect(row(rows, 'reranker')).toMatchObject({
      detail: expect.stringMatching(
        /^bge-reranker-v2-m3: cannot reach http:\/\/127\.0\.0\.1:\d+\/rerank: ECONNREFUSED/,
      ),
      fix: expect.stringContaining('RERANK_BASE_URL'),
    });
    expect(row(rows, 'ADMIN_PASSWORD').status).toBe('warn');

    // The same as a table: the failing rows are named at the end.
    const table = await doctor({ DATA_DIR: dataDir, REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^redis\s+FAIL\s+cannot reach .*Check REDIS_URL/m);
    expect(table.stdout).toMatch(/1 blocking problem\(s\): redis\./);
  }, 120_000);

  it('asks a configured reranker to rank two passages and reports its model and latency', async () => {
    const tei = await startFakeRerank('tei');
    try {
      const { code, rows, stderr } = await doctorRows({
        DATA_DIR: dataDir,
        RERANK_BASE_URL: tei.baseUrl,
        RERANK_MODEL: 'bge-reranker-v2-m3',
      });
      expect(code, stderr).toBe(0);
      expect(row(rows, 'reranker')).toMatchObject({
        status: 'ok',
        detail: expect.stringMatching(/^bge-reranker-v2-m3 at http:\/\/127\.0\.0\.1:\d+ answered in \d+ ms$/),
      });
      expect(tei.calls.at(-1)!.body).toMatchObject({ query: 'Where do visitors park?' });
    } finally {
      await tei.close();
    }
  }, 120_000);

  it('rejects an invalid configuration as a failing row', async () => {
    const { code, stdout } = await doctor({ DATA_DIR: dataDir, PORT: 'eighty' });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^configuration\s+FAIL\s+PORT: must be a whole number/m);
  }, 60_000);

  it('knows weak secrets and old Node versions', () => {
    expect(entropyBits('a'.repeat(64))).toBeLessThan(20);
    expect(entropyBits('kQ7x+2vR9pLm3Zt8Wc4Yb6Nf1Hd5Jg0S')).toBeGreaterThan(128);
    expect(checkNode('18.20.0').status).toBe('fail');
    expect(checkNode('20.19.1').status).toBe('ok');
    expect(checkNode('24.11.0').status).toBe('ok');
  });

  it('says whether OCR of scanned PDFs works and, where it does not, what that means and how to install it', async (ctx) => {
    requires(ctx, [tool('tesseract', ['--version'], 'tesseract-ocr (apt-get install tesseract-ocr)')]);
    const [present, missing] = await Promise.all([
      doctorRows({ DATA_DIR: dataDir }),
      doctorRows({ DATA_DIR: dataDir, TESSERACT_PATH: '/nonexistent/bin/tesseract' }),
    ]);
    expect(row(present.rows, 'OCR (scanned PDFs)')).toMatchObject({ status: 'ok' });
    expect(row(present.rows, 'OCR (scanned PDFs)').detail).toMatch(
      /^tesseract \d+\.\d+.* with chi_sim\+chi_tra\+eng: PDF pages that are scanned images are read by OCR$/,
    );
    // Missing OCR is a warning: everything else works, and the deployment starts.
    expect(missing.code).toBe(0);
    expect(row(missing.rows, 'OCR (scanned PDFs)')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('a PDF of scans alone fails to index'),
      fix: expect.stringContaining('apt-get install tesseract-ocr tesseract-ocr-chi-sim'),
    });
  }, 120_000);
});

// Production shape: Postgres with pgvector and this machine's Redis (which keeps nothing on disk).
const production = process.env.TEST_DATABASE_URL && redisUrl ? [redisUrl] : [];
describe.each(production)('npm run doctor on Postgres and Redis (%s)', (redis) => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('postgres');
  });
  afterAll(async () => testDb?.dispose());

  it('reports the server versions, pgvector ≥ 0.8 with iterative scans, and flags Redis without persistence', async () => {
    const env = {
      DATA_DIR: dataDir,
      DATABASE_URL: testDb.url!,
      REDIS_URL: redis,
      SESSION_SECRET: 'kQ7x+2vR9pLm3Zt8Wc4Yb6Nf1Hd5Jg0S-aE',
    };
    const dev = await doctorRows(env);
    expect(dev.code, dev.stderr).toBe(0);
    expect(row(dev.rows, 'database')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^PostgreSQL 1[5-9]/),
    });
    expect(row(dev.rows, 'pgvector')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^vector 0\.(8|9|\d\d)\.\d+ \(installed\); iterative index scans available/),
    });
    expect(row(dev.rows, 'migrations').status).toBe('ok');
    expect(row(dev.rows, 'redis')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^Redis \d+\.\d+/) });
    expect(row(dev.rows, 'redis maxmemory-policy')).toMatchObject({ status: 'ok', detail: 'noeviction' });
    // CI's Redis runs with --save "" --appendonly no: a warning outside production …
    expect(row(dev.rows, 'redis persistence')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('none (no AOF, no RDB)'),
    });
    expect(row(dev.rows, 'clock skew').status).toBe('ok');

    // … and blocking in production, where a restart would lose queued jobs.
    const prod = await doctorRows({ ...env, NODE_ENV: 'production' });
    expect(prod.code).toBe(1);
    expect(prod.rows.filter((r) => r.status === 'fail').map((r) => r.check)).toEqual(['redis persistence']);
    expect(row(prod.rows, 'redis persistence').fix).toContain('appendonly yes');
  }, 120_000);
});
