import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatCall {
  body: { model: string; messages: { role: string; content: string }[]; stream?: boolean; [k: string]: unknown };
}

/** How the fake model answers one request. */
export interface Behaviour {
  /** The reply text, split into these chunks (or one chunk per word when a string). */
  reply?: string | string[];
  /** Delay before the first chunk, and between chunks. */
  firstTokenDelayMs?: number;
  chunkDelayMs?: number;
  /** Answer with this HTTP status and an OpenAI-shaped error instead. */
  status?: number;
  /** Send a broken SSE line mid-stream. */
  malformed?: boolean;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

/**
 * A real HTTP server on loopback speaking the OpenAI chat-completions protocol, streaming with SSE,
 * and `/v1/embeddings`. `next` decides each chat request's behaviour (default: a fixed answer),
 * `calls` records them; `embeddingInputs` records the texts embedded.
 */
export async function startFakeOpenAi(next: (call: ChatCall, index: number) => Behaviour = () => ({ reply: 'OK.' })) {
  const calls: ChatCall[] = [];
  /** Every text sent to `/v1/embeddings`, in order. */
  const embeddingInputs: string[] = [];
  /** The indexes (in `calls`) of chat requests whose client closed the connection before the reply ended. */
  const aborted: number[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const state = { next };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url === '/v1/models') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }));
      return;
    }
    if (req.url === '/v1/embeddings') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: string[]; dimensions: number };
      embeddingInputs.push(...body.input);
      // Deterministic, distinct per text; the tests read what was sent, not what the vectors mean.
      const vector = (text: string) =>
        Array.from({ length: body.dimensions }, (_, i) => Math.sin((text.charCodeAt(i % text.length) || 1) * (i + 1)));
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          object: 'list',
          model: 'fake-embed',
          data: body.input.map((text, index) => ({ object: 'embedding', index, embedding: vector(text) })),
          usage: { prompt_tokens: 0, total_tokens: 0 },
        }),
      );
      return;
    }
    if (req.url !== '/v1/chat/completions') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const call: ChatCall = { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
    calls.push(call);
    const index = calls.length - 1;
    res.on('close', () => {
      if (!res.writableEnded) aborted.push(index);
    });
    const b = state.next(call, calls.length - 1);
    if (b.hang) return; // the socket stays open until the client gives up
    const wait = (ms?: number) => new Promise((r) => setTimeout(r, ms ?? 0));
    if (b.status) {
      res.statusCode = b.status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { message: `fake failure ${b.status}`, type: 'server_error', code: null } }));
      return;
    }
    const text = b.reply ?? 'OK.';
    const pieces = Array.isArray(text) ? text : text.split(/(?<=\s)/);
    const id = `chatcmpl-${calls.length}`;
    const base = {
      id,
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: call.body.model,
    };
    if (!call.body.stream) {
      await wait(b.firstTokenDelayMs);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created: base.created,
          model: call.body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: pieces.join('') }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 42, completion_tokens: pieces.length, total_tokens: 42 + pieces.length },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Headers go out at once, as vLLM, Ollama and OpenAI send them, however long the first token takes.
    res.flushHeaders();
    await wait(b.firstTokenDelayMs);
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await wait(b.chunkDelayMs);
      if (res.destroyed) return;
      if (b.malformed && i === 1) {
        res.write('data: {"choices": [ this is not json\n\n');
        res.end();
        return;
      }
      res.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`,
      );
    }
    res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
    res.write(
      `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 42, completion_tokens: pieces.length, total_tokens: 42 + pieces.length } })}\n\n`,
    );
    res.write('data: [DONE]\n\n');
    res.end();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    calls,
    embeddingInputs,
    aborted,
    /** Changes how later requests are answered. */
    set(behaviour: (call: ChatCall, index: number) => Behaviour) {
      state.next = behaviour;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
