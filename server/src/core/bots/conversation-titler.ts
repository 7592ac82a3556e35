import type { Config } from '../../config.ts';
import type { ConversationPublisher } from '../conversations/conversation-publisher.ts';
import { createConversationRepository } from '../conversations/conversation.repository.ts';
import { shortTitle } from '../conversations/conversation-title.ts';
import { createMessageRepository } from '../conversations/message.repository.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { createBotRepository } from './bot.repository.ts';
import { modelSettings } from './bot-settings.ts';
import { detectLanguage, languageName } from './language.ts';
import { modelForBot, type ModelTimeouts } from './model-for-bot.ts';
import { renderPrompt, type PromptSet } from './prompts.ts';
import type { OnBotRedaction } from './redaction-audit.ts';
import { createUsageRepository, type UsageRecord } from './usage.repository.ts';

/** A few words: the prompt asks for six. */
const MAX_TOKENS = 40;

/** The model's title without what models wrap titles in: quotes, a "Title:" label, Markdown, a full stop. */
function cleanModelTitle(text: string): string {
  const firstLine = text.trim().split('\n')[0] ?? '';
  return shortTitle(
    firstLine
      .replace(/^(title|标题)\s*[:：]\s*/i, '')
      .replace(/^["'“”‘’「」《》]+|["'“”‘’「」《》]+$/g, '')
      .replace(/[.。]+$/u, ''),
  );
}

export interface TitlerDeps {
  db: Database;
  prompts: PromptSet;
  config: Pick<Config, 'chat' | 'redaction'>;
  timeouts: ModelTimeouts;
  publisher: Pick<ConversationPublisher, 'renamed'>;
  logger: Logger;
  onUsage?: (usage: UsageRecord) => void;
  onRedacted?: OnBotRedaction;
}

/**
 * Short titles for bot conversations written by the bot's model after the first answer, in the
 * question's language. Without a model (or when it fails) the cleaned first question stays.
 */
export function createConversationTitler(deps: TitlerDeps) {
  // One try: a title is a nicety, never worth a retry's wait.
  const timeouts = { ...deps.timeouts, attempts: 1 };
  return {
    async title(conversationId: string): Promise<void> {
      const conversation = await createConversationRepository(deps.db).findById(conversationId);
      if (!conversation?.bot_id) return;
      const bot = await createBotRepository(deps.db).findEnabled(conversation.bot_id);
      if (!bot) return;
      const question = (
        await createMessageRepository(deps.db).page(conversationId, { after: 0, limit: 20, includeInternal: false })
      ).find((m) => m.sender_type === 'user' && m.body.trim());
      if (!question?.sender_id) return;
      const context = { botId: bot.id, userId: question.sender_id, conversationId };
      const model = modelForBot(deps.config, modelSettings(bot.model), timeouts, (counts) =>
        deps.onRedacted?.(context, counts),
      );
      if (!model) return;
      const prompt = renderPrompt(
        deps.prompts,
        'title',
        { question: question.body, language: languageName(detectLanguage(question.body)) },
        bot.prompts,
      );
      const started = Date.now();
      try {
        const result = await model.stream(
          { messages: [{ role: 'user', content: prompt }], temperature: 0.2, maxTokens: MAX_TOKENS },
          () => {},
        );
        const usage: UsageRecord = {
          kind: 'title',
          model: result.model,
          botId: bot.id,
          userId: question.sender_id,
          conversationId,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
          latencyMs: Date.now() - started,
        };
        deps.onUsage?.(usage);
        await createUsageRepository(deps.db).record(usage);
        const title = cleanModelTitle(result.text);
        if (!title) return;
        const renamed = await createConversationRepository(deps.db).setModelTitle(conversationId, title);
        if (renamed) await deps.publisher.renamed(renamed);
      } catch (error) {
        deps.logger.warn(
          { err: error, conversationId },
          'conversation title not written; the question stays its title',
        );
      }
    },
  };
}

export type ConversationTitler = ReturnType<typeof createConversationTitler>;
