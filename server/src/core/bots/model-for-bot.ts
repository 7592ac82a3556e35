import type { Config } from '../../config.ts';
import type { ChatModel } from '../llm/chat-model.ts';
import { createOpenAiChatModel } from '../llm/openai-chat-model.ts';
import { redactingChatModel, type OnRedacted } from '../llm/redacting-models.ts';
import { createRedactor } from '../llm/redaction.ts';
import { redactsFor } from '../llm/redaction-policy.ts';
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
 * when neither names an endpoint — then the built-in offline answerer is used. Every caller's
 * requests to an endpoint off this network (or any, per REDACT_PII / the bot's `redactPii`) carry
 * placeholders instead of personal data; `onRedacted` hears what kinds were replaced.
 */
export function modelForBot(
  config: Pick<Config, 'chat' | 'redaction'>,
  settings: BotModelSettings,
  timeouts: ModelTimeouts,
  onRedacted?: OnRedacted,
): ChatModel | undefined {
  const endpoint = endpointOf(config, settings);
  if (!endpoint) return undefined;
  const { baseUrl, model } = endpoint;
  // A bot's own endpoint gets no key: the deployment's key is only sent to the deployment's endpoint.
  const apiKey = settings.baseUrl && settings.baseUrl !== config.chat.baseUrl ? undefined : config.chat.apiKey;
  const chat = createOpenAiChatModel({ baseUrl, apiKey, model, ...timeouts });
  if (!redactsFor(settings.redactPii ?? config.redaction.mode, baseUrl)) return chat;
  return redactingChatModel(chat, createRedactor(config.redaction.patterns), onRedacted);
}
