import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RerankCall {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** How the fake answers one request. */
export interface RerankBehaviour {
  /** Answer with this HTTP status and an error body instead. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer 200 with this raw body instead of a ranking. */
  rawBody?: string;
}

/**
 * A real HTTP server on loopback speaking the `/rerank` API, scoring each passage by the share of
 * the query's words it contains. `jina` is the shape Jina, vLLM, Xinference and Cohere serve
 * (`POST /v1/rerank {model, query, documents, top_n}` → `{results: [{index, relevance_score}]}`,
 * the best `top_n`); `tei` is Hugging Face TEI's (`POST /rerank {query, texts}` → a bare array
 * `[{index, score}]` of every text, and a 422 naming `texts` when they are missing).
 * `next` decides each request's behaviour; `calls` records them.
 */
export async function startFakeRerank(
  dialect: 'jina' | 'tei',
  next: (call: RerankCall, index: number) => RerankBehaviour = () => ({}),
) {
  const calls: RerankCall[] = [];
  const sockets = new Set<Socket>();
  const state = { next };
  const prefix = dialect === 'jina' ? '/v1' : '';
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== `${prefix}/rerank`) {
      res.statusCode = 404;
      res.end('Not Found');
      return;
    }
    const call: RerankCall = {
      path: req.url,
      headers: req.headers,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
    };
    calls.push(call);
    const b = state.next(call, calls.length - 1);
    if (b.delayMs) await new Promise((resolve) => setTimeout(resolve, b.delayMs));
    if (res.destroyed) return;
    if (b.status) {
      res.writeHead(b.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `fake failure ${b.status}` }));
      return;
    }
    if (b.rawBody !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(b.rawBody);
      return;
    }
    const passages = call.body[dialect === 'jina' ? 'documents' : 'texts'];
    if (!Array.isArray(passages)) {
      // What TEI's JSON extractor (axum) answers for the Jina-shaped request.
      res.writeHead(422, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(
        `Failed to deserialize the JSON body into the target type: missing field \`${dialect === 'jina' ? 'documents' : 'texts'}\` at line 1 column 80`,
      );
      return;
    }
    const words = (text: string) => new Set(text.toLowerCase().match(/\p{L}+/gu) ?? []);
    const query = words(String(call.body.query));
    const ranked = passages
      .map((text: string, index) => {
        const passage = words(text);
        return { index, score: [...query].filter((w) => passage.has(w)).length / Math.max(query.size, 1) };
      })
      .sort((a, b) => b.score - a.score);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        dialect === 'tei'
          ? ranked
          : {
              id: `rerank-${calls.length}`,
              model: call.body.model,
              usage: { total_tokens: 42 },
              results: ranked
                .slice(0, Number(call.body.top_n ?? ranked.length))
                .map((r) => ({ index: r.index, relevance_score: r.score, document: { text: passages[r.index] } })),
            },
      ),
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${prefix}`,
    calls,
    /** Changes how later requests are answered. */
    set(behaviour: (call: RerankCall, index: number) => RerankBehaviour) {
      state.next = behaviour;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
