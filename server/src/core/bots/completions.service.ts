import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { auditRetrieval } from './answer.service.ts';
import { createBotRepository } from './bot.repository.ts';
import type { GroundedAnswer, GroundedAnswerer, Turn } from './grounded-answerer.ts';
import { BOT_TEXT } from './language.ts';

export interface CompletionInput {
  model: string;
  messages: { role: 'system' | 'user' | 'assistant' | 'developer' | 'tool'; content: string }[];
}

export interface Completion extends GroundedAnswer {
  slug: string;
}

/**
 * The OpenAI-compatible face of the bots: `model` is a bot slug, the answer is grounded with the
 * token owner's permissions, exactly as in a conversation. System messages from the caller are
 * ignored: the bot's own instructions govern what it may say.
 */
export function createCompletionsService(deps: { db: Database; answerer: GroundedAnswerer }) {
  const { db } = deps;
  return {
    models(actor: Actor) {
      return createBotRepository(db).listUsableBy(actor.id);
    },

    async complete(
      actor: Actor,
      input: CompletionInput,
      signal: AbortSignal,
      onDelta: (delta: string) => void,
    ): Promise<Completion> {
      const bot = (await createBotRepository(db).listUsableBy(actor.id)).find((b) => b.slug === input.model);
      if (!bot)
        throw new AppError(
          404,
          'model_not_found',
          `The model "${input.model}" does not exist or you do not have access to it`,
        );
      const dialogue = input.messages.filter((m) => m.role === 'user' || m.role === 'assistant');
      const last = dialogue[dialogue.length - 1];
      if (!last || last.role !== 'user' || !last.content.trim()) {
        throw new AppError(400, 'invalid_request_error', 'The last message must be a non-empty user message');
      }
      const history: Turn[] = dialogue.slice(0, -1).map((m) => ({ role: m.role as Turn['role'], content: m.content }));
      const prepared = await deps.answerer.prepare(bot, actor.id, last.content, history, null);
      const base = { slug: bot.slug };
      if (!deps.answerer.confident(prepared)) {
        const body = BOT_TEXT.noAnswer[prepared.language];
        onDelta(body);
        return {
          ...base,
          outcome: 'declined',
          body,
          citations: [],
          model: 'none',
          promptTokens: 0,
          completionTokens: 0,
        };
      }
      await auditRetrieval(db, actor.id, prepared.hits, { botId: bot.id, via: 'v1' });
      let emitted = false;
      const answer = await deps.answerer.generate(prepared, { kind: 'v1', conversationId: null }, signal, (delta) => {
        emitted = true;
        onDelta(delta);
      });
      // A declined answer streamed nothing (the marker is held back): send the fixed text instead.
      if (!emitted) onDelta(answer.body);
      return { ...base, ...answer };
    },
  };
}

export type CompletionsService = ReturnType<typeof createCompletionsService>;
