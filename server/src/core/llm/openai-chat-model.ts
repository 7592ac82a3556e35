import OpenAI from 'openai';
import { estimateTokens, ModelError, type ChatModel, type ChatRequest, type ChatResult } from './chat-model.ts';

export interface OpenAiChatSettings {
  baseUrl: string;
  apiKey?: string | undefined;
  model: string;
  /** No first token within this long: the attempt fails (and may be retried). */
  firstTokenTimeoutMs: number;
  /** Silence between two chunks longer than this fails the stream. */
  idleTimeoutMs: number;
  /** Tries before the first token (429, 5xx, timeouts, a malformed stream); none after text has flowed. */
  attempts: number;
  backoffMs: number;
}

function retryable(error: unknown): boolean {
  if (error instanceof OpenAI.APIError)
    return error.status === undefined || error.status === 429 || error.status >= 500;
  return true; // connection resets, timeouts, malformed SSE
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Any OpenAI-compatible chat endpoint (OpenAI, Azure, vLLM, Ollama, DeepSeek, Qwen …) with
 * streaming, through the official SDK. Retries are ours, not the SDK's, because a stream that has
 * already shown text to a user must not silently start over.
 */
export function createOpenAiChatModel(settings: OpenAiChatSettings): ChatModel {
  const client = new OpenAI({
    baseURL: settings.baseUrl,
    apiKey: settings.apiKey ?? 'not-needed',
    maxRetries: 0,
    timeout: settings.firstTokenTimeoutMs,
  });

  async function attempt(
    request: ChatRequest,
    onDelta: (delta: string) => void,
    state: { emitted: boolean },
  ): Promise<ChatResult> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    request.signal?.addEventListener('abort', abort);
    let timer = setTimeout(abort, settings.firstTokenTimeoutMs);
    let timedOut = false;
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, settings.idleTimeoutMs);
    };
    try {
      const stream = await client.chat.completions.create(
        {
          model: settings.model,
          messages: request.messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
        },
        { signal: controller.signal },
      );
      let text = '';
      let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
      let finishReason: string | null = null;
      let model = settings.model;
      for await (const chunk of stream) {
        rearm();
        model = chunk.model || model;
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          state.emitted = true;
          onDelta(delta);
        }
      }
      // The SDK ends an aborted stream quietly: a timeout must not pass for a complete (or empty) answer.
      if (controller.signal.aborted && !request.signal?.aborted)
        throw new ModelError('The model stopped responding', true);
      const prompt = request.messages.map((m) => m.content).join('\n');
      return {
        text,
        model,
        promptTokens: usage?.prompt_tokens ?? estimateTokens(prompt),
        completionTokens: usage?.completion_tokens ?? estimateTokens(text),
        finishReason,
      };
    } catch (error) {
      if (request.signal?.aborted) throw error;
      if (timedOut || controller.signal.aborted)
        throw new ModelError('The model stopped responding', true, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', abort);
    }
  }

  return {
    model: settings.model,
    async stream(request, onDelta) {
      const state = { emitted: false };
      let lastError: unknown;
      for (let i = 1; i <= settings.attempts; i += 1) {
        try {
          return await attempt(request, onDelta, state);
        } catch (error) {
          lastError = error;
          if (request.signal?.aborted) throw error;
          if (state.emitted || !retryable(error) || i === settings.attempts) break;
          await sleep(settings.backoffMs * 2 ** (i - 1), request.signal);
        }
      }
      const status = lastError instanceof OpenAI.APIError ? ` (HTTP ${lastError.status ?? 'error'})` : '';
      throw new ModelError(
        `The model endpoint failed${status}: ${(lastError as Error)?.message ?? 'unknown error'}`,
        false,
        { cause: lastError },
      );
    },
  };
}
