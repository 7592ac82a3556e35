import type { Config } from '../config.ts';
import { createRemoteReranker, RerankError } from '../core/llm/rerank-client.ts';
import { message, TIMEOUT_MS, type Row } from './doctor-checks.ts';

/**
 * `npm run doctor`'s checks of the HTTP services Enclave calls: the chat model, the embedder, the
 * reranker, the OIDC issuer.
 */

async function fetchJson(
  url: string,
  init: RequestInit & { apiKey?: string },
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(init.apiKey ? { authorization: `Bearer ${init.apiKey}` } : {}),
  };
  const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the detail.
  }
  return { status: res.status, body };
}

const endpoint = (base: string, suffix: string) => `${base.replace(/\/+$/, '')}/${suffix}`;

export async function checkChatModel(config: Config): Promise<Row> {
  const { baseUrl, apiKey, model } = config.chat;
  if (!baseUrl)
    return {
      check: 'chat model',
      status: 'ok',
      detail: 'built-in offline answerer (no endpoint configured; no outbound connection)',
    };
  try {
    const { status, body } = await fetchJson(endpoint(baseUrl, 'models'), { method: 'GET', apiKey });
    if (status === 401 || status === 403)
      return {
        check: 'chat model',
        status: 'fail',
        detail: `${baseUrl} refused the API key (HTTP ${status})`,
        fix: 'Check OPENAI_API_KEY',
      };
    if (status >= 400)
      return {
        check: 'chat model',
        status: 'warn',
        detail: `${baseUrl}/models answered HTTP ${status}; cannot confirm ${model} is served`,
        fix: 'Check OPENAI_BASE_URL (it usually ends in /v1)',
      };
    const ids = ((body as { data?: { id: string }[] })?.data ?? []).map((m) => m.id);
    return ids.includes(model!)
      ? { check: 'chat model', status: 'ok', detail: `${model} served by ${baseUrl}` }
      : {
          check: 'chat model',
          status: 'warn',
          detail: `${baseUrl} is up but does not list ${model} (it lists ${ids.slice(0, 5).join(', ') || 'nothing'})`,
          fix: 'Set CHAT_MODEL to a served model, or pull it (ollama pull …)',
        };
  } catch (error) {
    return {
      check: 'chat model',
      status: 'fail',
      detail: `cannot reach ${baseUrl}: ${message(error)}`,
      fix: 'Check OPENAI_BASE_URL and that the model server runs and is reachable from this host',
    };
  }
}

export async function checkEmbeddings(
  config: Config,
  index: { model: string; dimensions: number } | undefined,
): Promise<Row> {
  const e = config.embedding;
  const indexNote = index ? `index: ${index.model}, ${index.dimensions} dimensions` : 'index not created yet';
  if (index && index.dimensions !== e.dimensions) {
    return {
      check: 'embeddings',
      status: 'fail',
      detail: `configured ${e.model} (${e.dimensions} dimensions) but the ${indexNote}`,
      fix: 'Restore EMBEDDING_MODEL/EMBEDDING_DIMENSIONS, or run `npm run reembed` to re-embed every document',
    };
  }
  if (e.offline)
    return {
      check: 'embeddings',
      status: 'ok',
      detail: `built-in offline embedder, ${e.dimensions} dimensions (${indexNote})`,
    };
  try {
    const { status, body } = await fetchJson(endpoint(e.baseUrl!, 'embeddings'), {
      method: 'POST',
      apiKey: e.apiKey,
      body: JSON.stringify({ model: e.model, input: ['enclave doctor'], encoding_format: 'float' }),
    });
    if (status >= 400) {
      return {
        check: 'embeddings',
        status: 'fail',
        detail: `${e.baseUrl}/embeddings answered HTTP ${status} for ${e.model}`,
        fix: 'Check EMBEDDING_BASE_URL, EMBEDDING_API_KEY and EMBEDDING_MODEL',
      };
    }
    const vector = (body as { data?: { embedding?: unknown }[] })?.data?.[0]?.embedding;
    if (!Array.isArray(vector)) {
      return {
        check: 'embeddings',
        status: 'fail',
        detail: `${e.baseUrl}/embeddings returned no float vector`,
        fix: 'Use an OpenAI-compatible embeddings endpoint that honours encoding_format: "float"',
      };
    }
    const expected = index?.dimensions ?? e.dimensions;
    if (vector.length !== expected) {
      return {
        check: 'embeddings',
        status: 'fail',
        detail: `${e.model} returned ${vector.length} dimensions; the ${index ? 'index column holds' : 'configuration says'} ${expected}`,
        fix: `Set EMBEDDING_DIMENSIONS=${vector.length} (on a fresh index), or choose the model the index was built with`,
      };
    }
    return {
      check: 'embeddings',
      status: 'ok',
      detail: `${e.model} at ${e.baseUrl} returns ${vector.length} dimensions (${indexNote})`,
    };
  } catch (error) {
    return {
      check: 'embeddings',
      status: 'fail',
      detail: `cannot reach ${e.baseUrl}: ${message(error)}`,
      fix: 'Check EMBEDDING_BASE_URL (or OPENAI_BASE_URL) and that the server is reachable',
    };
  }
}

const RERANK_FIX: Record<string, string> = {
  timeout: 'Raise RERANK_TIMEOUT_MS, or check the rerank server (is it loading the model, or overloaded?)',
  unreachable: 'Check RERANK_BASE_URL and that the rerank server runs and is reachable from this host',
  'invalid-response': 'RERANK_BASE_URL must serve the /rerank API of TEI, vLLM, Xinference or Jina',
};

/**
 * A configured reranker is asked to rank two passages, through the client the answers use (its
 * timeout, retry and TEI detection). A broken one fails the check: every answer would wait for it
 * before falling back to the offline reranker.
 */
export async function checkReranker(config: Config): Promise<Row> {
  if (!config.rerank)
    return { check: 'reranker', status: 'ok', detail: 'built-in offline reranker (RERANK_BASE_URL not set)' };
  const { baseUrl, model } = config.rerank;
  const started = performance.now();
  try {
    const hits = await createRemoteReranker(config.rerank).rerank(
      'Where do visitors park?',
      ['The canteen opens at eight.', 'Visitors park on level two of the north garage.'],
      { topN: 2 },
    );
    const ms = Math.round(performance.now() - started);
    if (hits[0]?.index !== 1)
      return {
        check: 'reranker',
        status: 'warn',
        detail: `${model} at ${baseUrl} answered in ${ms} ms but ranked an unrelated passage first`,
        fix: 'Check that RERANK_MODEL is a reranking (cross-encoder) model',
      };
    return { check: 'reranker', status: 'ok', detail: `${model} at ${baseUrl} answered in ${ms} ms` };
  } catch (error) {
    const reason = error instanceof RerankError ? error.reason : 'unreachable';
    const status = error instanceof RerankError ? error.status : undefined;
    const fix =
      status === 401 || status === 403
        ? 'Check RERANK_API_KEY'
        : status === 404
          ? 'Set RERANK_BASE_URL to the URL /rerank is under (TEI http://host:8080, vLLM http://host:8000/v1, Jina https://api.jina.ai/v1)'
          : reason === 'http'
            ? 'Check that RERANK_MODEL names a reranking model the server serves'
            : RERANK_FIX[reason]!;
    return {
      check: 'reranker',
      status: 'fail',
      detail: `${model}: ${message(error)} (answers would fall back to the offline reranker)`,
      fix,
    };
  }
}

export async function checkOidc(config: Config): Promise<Row | undefined> {
  if (!config.oidc) return undefined;
  const url = endpoint(config.oidc.issuer, '.well-known/openid-configuration');
  try {
    const { status, body } = await fetchJson(url, { method: 'GET' });
    if (status !== 200 || !(body as { issuer?: string })?.issuer)
      return {
        check: 'sso',
        status: 'fail',
        detail: `${url} answered HTTP ${status}`,
        fix: 'Check OIDC_ISSUER (the issuer URL, without the .well-known path)',
      };
    return { check: 'sso', status: 'ok', detail: `issuer ${(body as { issuer: string }).issuer} reachable` };
  } catch (error) {
    return {
      check: 'sso',
      status: 'fail',
      detail: `cannot reach ${url}: ${message(error)}`,
      fix: 'Check OIDC_ISSUER and that this host can reach the identity provider',
    };
  }
}
