import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import type { CompletionsService } from '../../core/bots/completions.service.ts';
import { AppError } from '../../core/errors.ts';
import { TokenBucket } from '../../core/rate-limit/token-bucket.ts';
import { actorOf, type SecureRouter } from '../secure-router.ts';
import { body } from '../validate.ts';

const contentPart = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const messageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  // Plain text, or the array form with text parts (images and other parts are not used).
  content: z.union([z.string(), z.array(contentPart), z.null()]).transform((c) =>
    typeof c === 'string'
      ? c
      : (c ?? [])
          .filter((p) => p.type === 'text')
          .map((p) => p.text ?? '')
          .join('\n'),
  ),
});

// OpenAI clients send many optional fields; the ones that matter are read, the rest are accepted and ignored.
export const completionSchema = z
  .object({
    model: z.string().min(1).max(100),
    messages: z.array(messageSchema).min(1).max(100),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullish(),
  })
  .passthrough();

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'invalid_request_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  429: 'rate_limit_exceeded',
};

/** Errors on /v1 in the shape OpenAI clients parse: `{error: {message, type, param, code}}`. */
export function openAiErrors(error: unknown, req: Request, res: Response, next: NextFunction) {
  if (res.headersSent) return next(error);
  if (error instanceof z.ZodError) {
    res.status(400).json({
      error: {
        message: error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    return;
  }
  if (error instanceof AppError) {
    const code = error.status === 401 ? 'invalid_api_key' : error.code;
    res
      .status(error.status)
      .json({ error: { message: error.message, type: OPENAI_TYPES[error.status] ?? 'api_error', param: null, code } });
    return;
  }
  const status = (error as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    res
      .status(status)
      .json({ error: { message: (error as Error).message, type: 'invalid_request_error', param: null, code: null } });
    return;
  }
  req.log?.error({ err: error }, 'v1 request failed');
  res.status(500).json({
    error: {
      message: 'The server had an error while processing your request.',
      type: 'api_error',
      param: null,
      code: null,
    },
  });
}

/** Per-credential request budget (in memory, per server process). */
function rateLimit(perMinute: number) {
  const buckets = new Map<string, TokenBucket>();
  return (req: Request, res: Response, next: NextFunction) => {
    const key = actorOf(req).credential.id;
    let bucket = buckets.get(key);
    if (!bucket) {
      if (buckets.size > 10_000) buckets.clear();
      bucket = new TokenBucket(perMinute / 60, Math.max(1, Math.ceil(perMinute / 4)));
      buckets.set(key, bucket);
    }
    if (bucket.take()) return next();
    res.setHeader('Retry-After', String(Math.max(1, Math.ceil(60 / perMinute))));
    next(new AppError(429, 'rate_limit_exceeded', `Rate limit reached: ${perMinute} requests per minute per token`));
  };
}

/** The OpenAI-compatible API: `/v1/models` lists the bots you may use; chat completions answer as one. */
export function v1Routes(r: SecureRouter, completions: CompletionsService, perMinute: number) {
  const limit = rateLimit(perMinute);

  r.get('/v1/models', 'user', limit, async (req, res) => {
    const bots = await completions.models(actorOf(req));
    res.json({
      object: 'list',
      data: bots.map((b) => ({
        id: b.slug,
        object: 'model',
        created: Math.floor(b.created_at.getTime() / 1000),
        owned_by: 'enclave',
        name: b.name,
      })),
    });
  });

  r.post('/v1/chat/completions', 'user', limit, async (req, res) => {
    const input = body(completionSchema, req);
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });

    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);

    if (!input.stream) {
      const c = await completions.complete(actorOf(req), input, controller.signal, () => {});
      res.json({
        id,
        object: 'chat.completion',
        created,
        model: c.slug,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: c.body, refusal: null },
            finish_reason: 'stop',
            logprobs: null,
          },
        ],
        usage: {
          prompt_tokens: c.promptTokens,
          completion_tokens: c.completionTokens,
          total_tokens: c.promptTokens + c.completionTokens,
        },
        citations: c.citations,
      });
      return;
    }

    const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: input.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`,
      );
    // Headers go out with the first delta, so a failure before it still gets a proper JSON error.
    const start = () => {
      if (res.headersSent) return;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      chunk({ role: 'assistant', content: '' }, null);
    };
    try {
      const c = await completions.complete(actorOf(req), input, controller.signal, (delta) => {
        start();
        chunk({ content: delta }, null);
      });
      start();
      chunk({}, 'stop', { citations: c.citations });
      if (input.stream_options?.include_usage) {
        const usage = {
          prompt_tokens: c.promptTokens,
          completion_tokens: c.completionTokens,
          total_tokens: c.promptTokens + c.completionTokens,
        };
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: input.model, choices: [], usage })}\n\n`,
        );
      }
      res.write('data: [DONE]\n\n');
      res.end();
    } catch (error) {
      if (!res.headersSent) throw error;
      res.write(
        `data: ${JSON.stringify({ error: { message: (error as Error).message, type: 'api_error', param: null, code: null } })}\n\n`,
      );
      res.end();
    }
  });
}
