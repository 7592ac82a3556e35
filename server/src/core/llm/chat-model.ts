/** What a chat model needs and returns, whichever provider serves it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Aborts the request (an agent claimed the conversation, the client went away). */
  signal?: AbortSignal | undefined;
}

export interface ChatResult {
  text: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: string | null;
}

export interface ChatModel {
  readonly model: string;
  /** Streams the reply; `onDelta` sees each piece as it arrives; resolves with the whole. */
  stream(request: ChatRequest, onDelta: (delta: string) => void): Promise<ChatResult>;
}

/** A model fault after retries: the caller answers with a clear failure, never a hung reply. */
export class ModelError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelError';
  }
}

/** Rough token count for providers that do not report usage: ~4 characters per token, 1 per CJK character. */
export function estimateTokens(text: string): number {
  const cjk = (text.match(/[\u3400-\u9fff\uf900-\ufaff]/g) ?? []).length;
  return cjk + Math.ceil((text.length - cjk) / 4);
}
