import { z } from 'zod';
import type { Config } from '../../config.ts';
import { lexiconIntents, type UserIntents } from '../conversations/intent-lexicon.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { BotRow } from './bot.repository.ts';
import { handoffSettings, modelSettings } from './bot-settings.ts';
import { modelForBot, type ModelTimeouts } from './model-for-bot.ts';
import { renderPrompt, type PromptSet } from './prompts.ts';
import type { OnBotRedaction } from './redaction-audit.ts';
import { createUsageRepository, type UsageRecord } from './usage.repository.ts';

const score = z.number().min(0).max(1);
const replySchema = z.object({ wants_person: score, frustrated: score, complaint: score });

/** Three numbers in a JSON object: a few tokens, however wordy the model. */
const MAX_TOKENS = 60;

/** The model's JSON, also when it wraps it in a code fence or a sentence; undefined when there is none. */
export function parseClassifierReply(text: string): UserIntents | undefined {
  const json = /\{[\s\S]*?\}/.exec(text)?.[0];
  if (!json) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = replySchema.safeParse(value);
  if (!parsed.success) return undefined;
  return {
    wantsPerson: parsed.data.wants_person,
    frustrated: parsed.data.frustrated,
    complaint: parsed.data.complaint,
  };
}

export interface IntentClassifierDeps {
  db: Database;
  prompts: PromptSet;
  config: Pick<Config, 'chat' | 'redaction'>;
  timeouts: ModelTimeouts;
  logger: Logger;
  /** Told of every model request, for metrics. */
  onUsage?: (usage: UsageRecord) => void;
  /** Told of every model request that had personal data replaced, for metrics and the audit log. */
  onRedacted?: OnBotRedaction;
}

/**
 * The bot's model reading a user's message for a handoff: does it want a person, is it frustrated,
 * is it a complaint. Run in the bot's turn, so posting never waits for a model; a bot without a
 * model has had its message read by the lexicon when it was posted (conversation.service.ts).
 */
export function createIntentClassifier(deps: IntentClassifierDeps) {
  const { logger } = deps;
  // One try: a failed reading falls back to the lexicon rather than holding up the answer.
  const timeouts = { ...deps.timeouts, attempts: 1 };

  return {
    /** The message's intents, or undefined when the bot has no model (nothing more to read). */
    async classify(
      bot: BotRow,
      message: { body: string; senderId: string; conversationId: string },
    ): Promise<UserIntents | undefined> {
      const context = { botId: bot.id, userId: message.senderId, conversationId: message.conversationId };
      const model = modelForBot(deps.config, modelSettings(bot.model), timeouts, (counts) =>
        deps.onRedacted?.(context, counts),
      );
      if (!model) return undefined;
      const prompt = renderPrompt(deps.prompts, 'handoff-classifier', { message: message.body }, bot.prompts);
      const started = Date.now();
      try {
        const result = await model.stream(
          { messages: [{ role: 'user', content: prompt }], temperature: 0, maxTokens: MAX_TOKENS },
          () => {},
        );
        const usage: UsageRecord = {
          kind: 'intent',
          model: result.model,
          botId: bot.id,
          userId: message.senderId,
          conversationId: message.conversationId,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
          latencyMs: Date.now() - started,
        };
        deps.onUsage?.(usage);
        await createUsageRepository(deps.db).record(usage);
        const intents = parseClassifierReply(result.text);
        if (intents) return intents;
        // The reply's length, not its text: it may repeat what the employee wrote.
        logger.warn(
          { botId: bot.id, replyChars: result.text.length },
          'handoff classifier reply is not its JSON; reading the message with the lexicon',
        );
      } catch (error) {
        logger.warn({ err: error, botId: bot.id }, 'handoff classifier failed; reading the message with the lexicon');
      }
      return lexiconIntents(message.body, handoffSettings(bot.handoff).triggerWords);
    },
  };
}

export type IntentClassifier = ReturnType<typeof createIntentClassifier>;
