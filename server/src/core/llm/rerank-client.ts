import { z } from 'zod';
import type { Config } from '../../config.ts';
import { redactingReranker, type OnRedacted } from './redacting-models.ts';
import { createRedactor } from './redaction.ts';
import { redactsFor } from './redaction-policy.ts';

/** Orders passages by how well each answers a query, most relevant first. */
export interface Reranker {
  readonly model: string;
  /** At most `topN` hits, best first; `index` points into `documents`. */
  rerank(
    query: string,
    documents: string[],
    options: { topN: number; signal?: AbortSignal },
  ): Promise<{ index: number; score: number }[]>;
}

export type RerankFailure = 'timeout' | 'unreachable' | 'http' | 'invalid-response';

/** The rerank endpoint failed (after its one retry): the caller ranks without it. */
export class RerankError extends Error {
  constructor(
    message: string,
    readonly reason: RerankFailure,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RerankError';
  }
}

export interface RerankSettings {
  baseUrl: string;
  apiKey?: string | undefined;
  model: string;
  /** The whole call's budget, its retry included: reranking delays the answer's first word. */
  timeoutMs: number;
}

// Jina, vLLM, Xinference and Cohere answer {results: [{index, relevance_score}]} (some add
// `document`, `usage`, `id`); TEI answers a bare array [{index, score}] of every text.
const index = z.number().int().nonnegative();
const hits = z.union([
  z.array(z.object({ index, score: z.number() })),
  z
    .object({ results: z.array(z.object({ index, relevance_score: z.number() })) })
    .transform((body) => body.results.map((r) => ({ index: r.index, score: r.relevance_score }))),
]);

/** TEI's native /rerank names the passages `texts`; it rejects the common request with a 422 saying so. */
type Dialect = 'documents' | 'texts';
const asksForTexts = (status: number, body: string) => (status === 422 || status === 400) && /\btexts\b/.test(body);

const retryable = (error: unknown) =>
  error instanceof RerankError && (error.reason === 'unreachable' || (error.status ?? 0) >= 500);

/**
 * A remote reranker speaking the `/rerank` API of TEI, vLLM, Xinference and Jina:
 * POST `{base}/rerank` `{model, query, documents, top_n}`. One retry on a 5xx or a connection
 * failure, within `timeoutMs` overall; every failure is a RerankError naming what went wrong.
 */
export function createRemoteReranker(settings: RerankSettings): Reranker {
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/rerank`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
  };
  // Learnt from the server's first 422, then kept: one reranker talks to one server.
  let dialect: Dialect = 'documents';

  const body = (query: string, documents: string[], topN: number) =>
    dialect === 'documents'
      ? { model: settings.model, query, documents, top_n: topN, return_documents: false }
      : { query, texts: documents, truncate: true };

  async function post(query: string, documents: string[], topN: number, signal: AbortSignal): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body(query, documents, topN)),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new RerankError(
        `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        'unreachable',
        undefined,
        { cause: error },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      if (dialect === 'documents' && asksForTexts(res.status, text)) {
        dialect = 'texts';
        return post(query, documents, topN, signal);
      }
      const what = res.status === 401 || res.status === 403 ? 'refused the API key' : `answered HTTP ${res.status}`;
      throw new RerankError(`${url} ${what}: ${text.trim().slice(0, 200) || '(empty body)'}`, 'http', res.status);
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new RerankError(
        `${url} answered with something that is not JSON: ${text.slice(0, 80)}`,
        'invalid-response',
        200,
        { cause: error },
      );
    }
  }

  return {
    model: settings.model,
    async rerank(query, documents, { topN, signal }) {
      if (!documents.length || topN < 1) return [];
      const deadline = AbortSignal.timeout(settings.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
      let json: unknown;
      for (let attempt = 1; ; attempt += 1) {
        try {
          json = await post(query, documents, topN, combined);
          break;
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          if (deadline.aborted)
            throw new RerankError(`${url} did not answer within ${settings.timeoutMs} ms`, 'timeout', undefined, {
              cause: error,
            });
          // A restarting or overloaded server often answers the very next request; more would eat the budget.
          if (attempt === 2 || !retryable(error)) throw error;
        }
      }
      const parsed = hits.safeParse(json);
      if (!parsed.success)
        throw new RerankError(
          `${url} answered with something that is not a rerank result: ${z.prettifyError(parsed.error).slice(0, 200)}`,
          'invalid-response',
          200,
        );
      const outOfRange = parsed.data.find((hit) => hit.index >= documents.length);
      if (outOfRange)
        throw new RerankError(
          `${url} ranked passage ${outOfRange.index} of ${documents.length}`,
          'invalid-response',
          200,
        );
      // TEI ignores top_n and returns every text; sorting makes every server's answer alike.
      return parsed.data.sort((a, b) => b.score - a.score).slice(0, topN);
    },
  };
}

/**
 * The configured remote reranker; undefined without RERANK_BASE_URL (then the offline reranker
 * ranks). Per REDACT_PII it receives placeholders instead of personal data.
 */
export function createReranker(
  config: Pick<Config, 'rerank' | 'redaction'>,
  onRedacted?: OnRedacted,
): Reranker | undefined {
  if (!config.rerank) return undefined;
  const remote = createRemoteReranker(config.rerank);
  if (!redactsFor(config.redaction.mode, config.rerank.baseUrl)) return remote;
  return redactingReranker(remote, createRedactor(config.redaction.patterns), onRedacted);
}
