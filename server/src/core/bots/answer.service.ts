import type { Config } from '../../config.ts';
import { appendAudit } from '../audit/audit.service.ts';
import type { ConversationPublisher } from '../conversations/conversation-publisher.ts';
import { createConversationRepository } from '../conversations/conversation.repository.ts';
import { createMessageRepository, type MessageRow } from '../conversations/message.repository.ts';
import type { RoutingService } from '../conversations/routing.service.ts';
import type { Reason } from '../conversations/routing.ts';
import type { Database } from '../db/database.ts';
import type { SearchHit } from '../knowledge/retrieval.service.ts';
import type { ChatModel } from '../llm/chat-model.ts';
import type { Logger } from '../logger.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import { createUserRepository } from '../users/user.repository.ts';
import { createBotRepository, type BotRow } from './bot.repository.ts';
import { handoffSettings, modelSettings, type BotHandoffSettings } from './bot-settings.ts';
import { buildCitations, citedIndexes, confidenceOf, formatContext, type Citation } from './grounding.ts';
import { BOT_TEXT, detectLanguage, languageName, type Language } from './language.ts';
import { modelForBot, type ModelTimeouts } from './model-for-bot.ts';
import { composeOfflineAnswer } from './offline-answerer.ts';
import { renderPrompt, type PromptSet } from './prompts.ts';
import { createUsageRepository } from './usage.repository.ts';

const NO_ANSWER = '[[NO_ANSWER]]';
const HISTORY_MESSAGES = 10;
const PASSAGES = 6;

/** What became of a question; stored on the bot message (meta.outcome) for gaps and analytics. */
export type Outcome = 'answered' | 'no_answer' | 'declined' | 'failed';

export interface AnswerDeps {
  db: Database;
  bus: Pick<RealtimeBus, 'publish' | 'subscribe'>;
  publisher: ConversationPublisher;
  routing: Pick<RoutingService, 'handoff'>;
  retrieval: { search(actor: { id: string }, input: { query: string; collectionIds?: string[]; k?: number }): Promise<SearchHit[]> };
  prompts: PromptSet;
  config: Pick<Config, 'chat'>;
  timeouts: ModelTimeouts;
  logger: Logger;
}

function normalizeQuestion(text: string): string {
  return text.toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');
}

/**
 * The bot's turn: re-check the conversation is still with the bot, make the question standalone,
 * retrieve with the asking employee's permissions, then either say the knowledge base has nothing
 * (offering or starting a handoff) or stream a grounded, cited answer — stopping at once if an
 * agent claims the conversation. Every path ends in a completed, failed or removed message.
 */
export function createAnswerService(deps: AnswerDeps) {
  const { db, publisher, logger } = deps;

  async function finishWithoutModel(
    question: MessageRow,
    bot: BotRow,
    language: Language,
    outcome: Outcome,
    reason: Reason,
    handoff: BotHandoffSettings,
    details: Record<string, unknown>,
  ) {
    const start = handoff.enabled && handoff.auto;
    const body = start ? BOT_TEXT.handedOff[language] : outcome === 'failed' ? BOT_TEXT.failed[language] : BOT_TEXT.noAnswer[language];
    const meta = { outcome, question: question.body, questionId: question.id, handoffOffered: handoff.enabled && !start, reason, ...details };
    const row = await createMessageRepository(db).insertBotMessage({
      conversationId: question.conversation_id,
      botId: bot.id,
      body,
      status: outcome === 'failed' ? 'failed' : 'complete',
      meta,
    });
    if (row) await publisher.message('message.created', row);
    if (start) await deps.routing.handoff(null, question.conversation_id, reason, { questionId: question.id });
  }

  async function standaloneQuestion(model: ChatModel | undefined, bot: BotRow, question: MessageRow, history: MessageRow[]) {
    const previous = history.filter((m) => m.sender_type === 'user' && m.id < question.id);
    if (!previous.length) return question.body;
    if (!model) {
      // Offline: a short follow-up ("and for part-timers?") borrows the previous question's terms.
      return question.body.length < 24 ? `${previous[previous.length - 1]!.body} ${question.body}` : question.body;
    }
    const transcript = history.map((m) => `${m.sender_type === 'user' ? 'User' : 'Assistant'}: ${m.body}`).join('\n');
    const prompt = renderPrompt(deps.prompts, 'rewrite', { history: transcript, question: question.body }, bot.prompts);
    const started = Date.now();
    const result = await model.stream({ messages: [{ role: 'user', content: prompt }], temperature: 0, maxTokens: 200 }, () => {});
    await createUsageRepository(db).record({
      kind: 'rewrite',
      model: result.model,
      botId: bot.id,
      userId: question.sender_id,
      conversationId: question.conversation_id,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      latencyMs: Date.now() - started,
    });
    return result.text.trim() || question.body;
  }

  /** Watches the bus for the conversation leaving the bot (a claim, a handoff) while a reply streams. */
  function watchClaim(conversationId: string, controller: AbortController) {
    return deps.bus.subscribe((event) => {
      if (event.type !== 'deliver' || event.frame.type !== 'conversation.updated') return;
      const c = event.frame.conversation as { id?: string; status?: string };
      if (c.id === conversationId && c.status !== 'bot') controller.abort();
    });
  }

  return {
    async answer(messageId: number): Promise<void> {
      const messages = createMessageRepository(db);
      const question = await messages.findById(messageId);
      if (!question || question.sender_type !== 'user' || question.deleted_at) return;
      const conversation = await createConversationRepository(db).findById(question.conversation_id);
      if (!conversation || conversation.kind !== 'bot' || conversation.status !== 'bot' || !conversation.bot_id) return;
      // A retry after a crash: an answer already stored stays; a half-streamed one is redone.
      const previous = await messages.botReplyTo(question.conversation_id, question.id);
      if (previous?.status === 'complete' || previous?.status === 'failed') return;
      if (previous) await messages.discardStreaming(previous.id);

      const bot = await createBotRepository(db).findEnabled(conversation.bot_id);
      const asker = question.sender_id ? await createUserRepository(db).findById(question.sender_id) : undefined;
      if (!bot || !asker || asker.disabled) return;
      const handoff = handoffSettings(bot.handoff);
      const settings = modelSettings(bot.model);
      const model = modelForBot(deps.config, settings, deps.timeouts);
      const language = bot.language === 'zh' || bot.language === 'en' ? bot.language : detectLanguage(question.body);
      const history = await messages.page(question.conversation_id, { before: question.id + 1, limit: HISTORY_MESSAGES, includeInternal: false });

      if (handoff.enabled && handoff.onRepeatedQuestion) {
        const asked = normalizeQuestion(question.body);
        const earlier = history.find((m) => m.sender_type === 'user' && m.id < question.id && normalizeQuestion(m.body) === asked);
        const answeredAfter = earlier && history.some((m) => m.sender_type === 'bot' && m.id > earlier.id && m.id < question.id);
        if (answeredAfter) {
          await finishWithoutModel(question, bot, language, 'declined', 'repeated_question', { ...handoff, auto: true }, {});
          return;
        }
      }

      let query: string;
      try {
        query = await standaloneQuestion(model, bot, question, history);
      } catch (error) {
        logger.warn({ err: error }, 'question rewrite failed; searching with the question as asked');
        query = question.body;
      }
      const hits = await deps.retrieval.search({ id: asker.id }, { query, collectionIds: bot.collection_ids, k: PASSAGES });
      const confidence = confidenceOf(hits);
      if (!hits.length || confidence < handoff.minScore) {
        await finishWithoutModel(question, bot, language, 'no_answer', 'low_confidence', handoff, { confidence, query });
        return;
      }
      const citations = buildCitations(hits);
      await auditShown(question, bot, hits);

      const draft = await messages.insertBotMessage({
        conversationId: question.conversation_id,
        botId: bot.id,
        body: '',
        status: 'streaming',
        meta: { questionId: question.id, query, confidence },
      });
      if (!draft) return; // claimed meanwhile: the bot stays silent
      await publisher.message('message.created', draft);
      const audience = await createConversationRepository(db).members(question.conversation_id);
      const userIds = audience.map((m) => m.user_id);
      const sendDelta = (delta: string) =>
        void deps.bus
          .publish({ type: 'deliver', audience: { userIds }, frame: { type: 'message.delta', conversationId: question.conversation_id, messageId: draft.id, delta } })
          .catch(() => {});

      const controller = new AbortController();
      const unwatch = watchClaim(question.conversation_id, controller);
      const started = Date.now();
      let outcome: Outcome = 'answered';
      let body = '';
      let used: Citation[] = citations;
      try {
        if (model) {
          const result = await streamGrounded(model, bot, query, language, hits, settings, controller.signal, sendDelta);
          await createUsageRepository(db).record({
            kind: 'answer',
            model: result.model,
            botId: bot.id,
            userId: asker.id,
            conversationId: question.conversation_id,
            promptTokens: result.promptTokens,
            completionTokens: result.completionTokens,
            latencyMs: Date.now() - started,
          });
          if (result.declined) {
            outcome = 'declined';
            body = BOT_TEXT.noAnswer[language];
            used = [];
          } else {
            body = result.text;
            const cited = citedIndexes(body);
            used = cited.length ? citations.filter((c) => cited.includes(c.index)) : citations;
          }
        } else {
          const offline = composeOfflineAnswer(query, hits.map((h, i) => ({ index: i + 1, title: h.title, text: h.text, page: h.page })), language);
          if (!offline) {
            outcome = 'declined';
            body = BOT_TEXT.noAnswer[language];
            used = [];
          } else {
            body = offline.text;
            used = citations.filter((c) => offline.cited.includes(c.index));
            for (const piece of body.split(/(?<=\n)/)) sendDelta(piece);
          }
        }
      } catch (error) {
        if (controller.signal.aborted) {
          await messages.discardStreaming(draft.id);
          await publisher.message('message.updated', { ...draft, status: 'failed', body: '', deleted_at: new Date() });
          return;
        }
        logger.error({ err: error, messageId: draft.id }, 'answer failed');
        outcome = 'failed';
        body = BOT_TEXT.failed[language];
        used = [];
      } finally {
        unwatch();
      }

      const completed = await messages.completeBotMessage(draft.id, {
        body,
        status: outcome === 'failed' ? 'failed' : 'complete',
        citations: used,
        meta: { questionId: question.id, query, confidence, outcome, handoffOffered: outcome !== 'answered' && handoff.enabled, model: model?.model ?? 'offline' },
      });
      if (!completed) {
        // The claim landed between the last delta and the final write: nothing of the bot remains.
        await messages.discardStreaming(draft.id);
        await publisher.message('message.updated', { ...draft, status: 'failed', body: '', deleted_at: new Date() });
        return;
      }
      await publisher.message('message.completed', completed);
      if (outcome === 'declined' && handoff.enabled && handoff.auto) {
        await deps.routing.handoff(null, question.conversation_id, 'model_declined', { questionId: question.id });
      }
    },
  };

  /** Records which documents' passages were shown to whom (the audit trail of retrieval). */
  async function auditShown(question: MessageRow, bot: BotRow, hits: SearchHit[]) {
    await db.transaction((tx) =>
      appendAudit(tx, {
        action: 'retrieval.shown',
        actor: null,
        target: { type: 'user', id: question.sender_id! },
        details: {
          botId: bot.id,
          conversationId: question.conversation_id,
          messageId: question.id,
          passages: hits.map((h) => ({ documentId: h.documentId, chunkId: h.chunkId })),
        },
      }),
    );
  }

  async function streamGrounded(
    model: ChatModel,
    bot: BotRow,
    question: string,
    language: Language,
    hits: SearchHit[],
    settings: { temperature?: number | undefined; maxTokens?: number | undefined },
    signal: AbortSignal,
    onDelta: (delta: string) => void,
  ) {
    const system = renderPrompt(deps.prompts, 'answer.system', { botName: bot.name, language: languageName(language) }, bot.prompts);
    const user = renderPrompt(deps.prompts, 'answer.user', { context: formatContext(hits), question }, bot.prompts);
    // Hold back the first characters until they cannot be the decline marker, so it never flashes on screen.
    let held = '';
    let releasing = false;
    const result = await model.stream(
      { messages: [{ role: 'system', content: system }, { role: 'user', content: user }], temperature: settings.temperature ?? 0.2, maxTokens: settings.maxTokens, signal },
      (delta) => {
        if (releasing) return onDelta(delta);
        held += delta;
        if (held.trimStart().length >= NO_ANSWER.length || !NO_ANSWER.startsWith(held.trimStart())) {
          if (held.trimStart().startsWith(NO_ANSWER)) return;
          releasing = true;
          onDelta(held);
        }
      },
    );
    const declined = result.text.trim().startsWith(NO_ANSWER) || result.text.trim() === '';
    return { ...result, declined };
  }
}

export type AnswerService = ReturnType<typeof createAnswerService>;
