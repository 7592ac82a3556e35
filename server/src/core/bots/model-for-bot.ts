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

/** The bot's own endpoint and model, else the deployment's; undefined when neither names both. */
function endpointOf(config: Pick<Config, 'chat'>, settings: BotModelSettings) {
  const baseUrl = settings.baseUrl ?? config.chat.baseUrl;
  const model = settings.model ?? config.chat.model;
  return baseUrl && model ? { baseUrl, model } : undefined;
}

/** Whether the bot answers with a chat model (else with the built-in offline answerer). */
export function botHasModel(config: Pick<Config, 'chat'>, settings: BotModelSettings): boolean {
  return endpointOf(config, settings) !== undefined;
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
  const endpoint = endpointOf(config, settings);
  if (!endpoint) return undefined;
  const { baseUrl, model } = endpoint;
  // A bot's own endpoint gets no key: the deployment's key is only sent to the deployment's endpoint.
  const apiKey = settings.baseUrl && settings.baseUrl !== config.chat.baseUrl ? undefined : config.chat.apiKey;
  return createOpenAiChatModel({ baseUrl, apiKey, model, ...timeouts });
}
