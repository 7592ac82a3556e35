import type { Config } from '../../config.ts';
import type { ChatModel } from '../llm/chat-model.ts';
import { createOpenAiChatModel } from '../llm/openai-chat-model.ts';
import type { BotModelSettings } from './bot-settings.ts';

export interface ModelTimeouts {
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  attempts: number;
  backoffMs: number;
}

/**
 * The chat model a bot answers with: its own endpoint/model, else the deployment's; undefined
 * when neither names an endpoint — then the built-in offline answerer is used.
 */
export function modelForBot(
  config: Pick<Config, 'chat'>,
  settings: BotModelSettings,
  timeouts: ModelTimeouts,
): ChatModel | undefined {
  const baseUrl = settings.baseUrl ?? config.chat.baseUrl;
  const model = settings.model ?? config.chat.model;
  if (!baseUrl || !model) return undefined;
  // A bot's own endpoint gets no key: the deployment's key is only sent to the deployment's endpoint.
  const apiKey = settings.baseUrl && settings.baseUrl !== config.chat.baseUrl ? undefined : config.chat.apiKey;
  return createOpenAiChatModel({ baseUrl, apiKey, model, ...timeouts });
}
