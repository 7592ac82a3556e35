import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config.ts';
import { createRemoteReranker, createReranker, RerankError } from '../../server/src/core/llm/rerank-client.ts';
import { startFakeRerank } from '../support/fake-rerank.ts';

/* The optional remote reranker against a real HTTP server on loopback, in both response shapes. */

const PASSAGES = [
  'The canteen opens at eight.',
  'Visitors park on level two of the north garage.',
  'Employees park in the south garage.',
];
const QUERY = 'where do visitors park';

let servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function fake(...args: Parameters<typeof startFakeRerank>) {
  const server = await startFakeRerank(...args);
  servers.push(server);
  return server;
}
const settings = (baseUrl: string, timeoutMs = 2000) => ({ baseUrl, model: 'bge-reranker-v2-m3', timeoutMs });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the rerank call to fail');
    },
    (error: unknown) => error,
  );

describe('the remote reranker', () => {
  it('asks a Jina/vLLM-style endpoint with {model, query, documents, top_n} and returns its best hits', async () => {
    const server = await fake('jina');
    const reranker = createRemoteReranker({ ...settings(server.baseUrl), apiKey: 'rk-secret' });
    const hits = await reranker.rerank(QUERY, PASSAGES, { topN: 2 });
    expect(hits.map((h) => h.index)).toEqual([1, 2]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0]).toMatchObject({
      path: '/v1/rerank',
      headers: { authorization: 'Bearer rk-secret', 'content-type': 'application/json' },
      body: { model: 'bge-reranker-v2-m3', query: QUERY, documents: PASSAGES, top_n: 2, return_documents: false },
    });
    expect(reranker.model).toBe('bge-reranker-v2-m3');
  });

  it("speaks TEI's native /rerank: re-sends {query, texts} after its 422, keeps that, and cuts its full list to topN", async () => {
    const server = await fake('tei');
    const reranker = createRemoteReranker(settings(server.baseUrl));
    expect(await reranker.rerank(QUERY, PASSAGES, { topN: 1 })).toEqual([{ index: 1, score: 0.5 }]);
    expect(server.calls.map((c) => Object.keys(c.body).sort())).toEqual([
      ['documents', 'model', 'query', 'return_documents', 'top_n'],
      ['query', 'texts', 'truncate'],
    ]);
    expect(server.calls[1]!.body).toEqual({ query: QUERY, texts: PASSAGES, truncate: true });
    expect(server.calls[1]!.headers.authorization).toBeUndefined();

    // The next question goes straight to TEI's shape; every hit is sorted, best first.
    const hits = await reranker.rerank('employees park garage', PASSAGES, { topN: 3 });
    expect(server.calls).toHaveLength(3);
    expect(hits.map((h) => h.index)).toEqual([2, 1, 0]);
  });

  it('retries once after a 5xx, and gives up with a RerankError after the second', async () => {
    const server = await fake('jina', (_call, i) => (i === 0 ? { status: 503 } : {}));
    const reranker = createRemoteReranker(settings(server.baseUrl));
    expect((await reranker.rerank(QUERY, PASSAGES, { topN: 1 }))[0]!.index).toBe(1);
    expect(server.calls).toHaveLength(2);

    server.set(() => ({ status: 502 }));
    const error = await failure(reranker.rerank(QUERY, PASSAGES, { topN: 1 }));
    expect(error).toBeInstanceOf(RerankError);
    expect(error).toMatchObject({ reason: 'http', status: 502, message: expect.stringMatching(/answered HTTP 502/) });
    expect(server.calls).toHaveLength(4);

    // A refused key is not retried, and says so.
    server.set(() => ({ status: 401 }));
    expect(await failure(reranker.rerank(QUERY, PASSAGES, { topN: 1 }))).toMatchObject({
      reason: 'http',
      status: 401,
      message: expect.stringMatching(/refused the API key/),
    });
    expect(server.calls).toHaveLength(5);
  });

  it('gives up within its timeout, the retry included, with a RerankError saying how long it waited', async () => {
    const server = await fake('jina', () => ({ delayMs: 3000 }));
    const reranker = createRemoteReranker(settings(server.baseUrl, 300));
    const started = performance.now();
    const error = await failure(reranker.rerank(QUERY, PASSAGES, { topN: 2 }));
    expect(performance.now() - started).toBeLessThan(1500);
    expect(error).toMatchObject({ name: 'RerankError', reason: 'timeout', message: expect.stringMatching(/300 ms/) });
  });

  it('names an endpoint nothing listens on', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await failure(
      createRemoteReranker(settings(`http://127.0.0.1:${port}/v1`)).rerank(QUERY, PASSAGES, { topN: 1 }),
    );
    expect(error).toMatchObject({
      reason: 'unreachable',
      message: expect.stringMatching(/cannot reach .*ECONNREFUSED/),
    });
  });

  it('rejects an answer that is not JSON, not a ranking, or ranks passages it was not given', async () => {
    const server = await fake('jina', () => ({ rawBody: '<html>gateway</html>' }));
    const reranker = createRemoteReranker(settings(server.baseUrl));
    expect(await failure(reranker.rerank(QUERY, PASSAGES, { topN: 1 }))).toMatchObject({
      reason: 'invalid-response',
      message: expect.stringMatching(/not JSON/),
    });
    server.set(() => ({ rawBody: JSON.stringify({ data: [{ embedding: [0.1] }] }) }));
    expect(await failure(reranker.rerank(QUERY, PASSAGES, { topN: 1 }))).toMatchObject({
      reason: 'invalid-response',
      message: expect.stringMatching(/not a rerank result/),
    });
    server.set(() => ({ rawBody: JSON.stringify({ results: [{ index: 7, relevance_score: 0.9 }] }) }));
    expect(await failure(reranker.rerank(QUERY, PASSAGES, { topN: 1 }))).toMatchObject({
      reason: 'invalid-response',
      message: expect.stringMatching(/ranked passage 7 of 3/),
    });
    // Bad answers are not retried: the same server would answer the same.
    expect(server.calls).toHaveLength(3);
  });

  it("stops at once when the caller aborts, with the caller's abort rather than a RerankError", async () => {
    const server = await fake('jina', () => ({ delayMs: 3000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = performance.now();
    const error = await failure(
      createRemoteReranker(settings(server.baseUrl, 10_000)).rerank(QUERY, PASSAGES, {
        topN: 1,
        signal: controller.signal,
      }),
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).not.toBeInstanceOf(RerankError);
    expect((error as Error).name).toBe('AbortError');
    expect(server.calls).toHaveLength(1);
  });
});

describe('the reranker configuration', () => {
  it('is off without RERANK_BASE_URL, and RERANK_BASE_URL and RERANK_MODEL come together', () => {
    expect(createReranker(loadConfig({}))).toBeUndefined();
    expect(() => loadConfig({ RERANK_BASE_URL: 'http://tei:8080' })).toThrow(ConfigError);
    expect(() => loadConfig({ RERANK_BASE_URL: 'http://tei:8080' })).toThrow(/RERANK_MODEL: required/);
    expect(() => loadConfig({ RERANK_MODEL: 'bge-reranker-v2-m3' })).toThrow(/RERANK_BASE_URL: required/);
    expect(() => loadConfig({ RERANK_BASE_URL: 'tei:8080', RERANK_MODEL: 'm' })).toThrow(
      /RERANK_BASE_URL: must be a URL/,
    );
  });

  it("sends OPENAI_API_KEY only to a reranker on the chat endpoint's own server", async () => {
    const server = await fake('jina');
    const env = { OPENAI_API_KEY: 'sk-chat', CHAT_MODEL: 'chat', RERANK_BASE_URL: server.baseUrl, RERANK_MODEL: 'm' };
    const origin = new URL(server.baseUrl).origin;

    await createReranker(loadConfig({ ...env, OPENAI_BASE_URL: `${origin}/v1` }))!.rerank(QUERY, PASSAGES, { topN: 1 });
    await createReranker(loadConfig({ ...env, OPENAI_BASE_URL: 'http://chat.internal:8000/v1' }))!.rerank(
      QUERY,
      PASSAGES,
      { topN: 1 },
    );
    await createReranker(
      loadConfig({ ...env, OPENAI_BASE_URL: 'http://chat.internal:8000/v1', RERANK_API_KEY: 'rk-own' }),
    )!.rerank(QUERY, PASSAGES, { topN: 1 });
    expect(server.calls.map((c) => c.headers.authorization)).toEqual(['Bearer sk-chat', undefined, 'Bearer rk-own']);
  });
});
