import { appendAudit } from '../audit/audit.service.ts';
import type { ConversationPublisher } from '../conversations/conversation-publisher.ts';
import { createConversationRepository } from '../conversations/conversation.repository.ts';
import { createMessageRepository, type MessageRow } from '../conversations/message.repository.ts';
import type { RoutingService } from '../conversations/routing.service.ts';
import { decideHandoff, repeatsAnsweredQuestion, type HandoffDecision } from '../conversations/handoff-policy.ts';
import type { Database } from '../db/database.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { Outbox } from '../jobs/outbox.ts';
import type { SearchHit } from '../knowledge/retrieval.service.ts';
import type { Logger } from '../logger.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import { createUserRepository, type UserRow } from '../users/user.repository.ts';
import { createBotRepository } from './bot.repository.ts';
import { handoffSettings } from './bot-settings.ts';
import { citedIndexes, type Citation } from './grounding.ts';
import type { GroundedAnswerer, Turn } from './grounded-answerer.ts';
import type { IntentClassifier } from './intent-classifier.ts';
import { BOT_TEXT, detectLanguage, type Language } from './language.ts';

const HISTORY_MESSAGES = 10;

/**
 * What became of a question; stored on the bot message (meta.outcome) for gaps and analytics.
 * `handed_off`: the message wanted people, not an answer (it is no knowledge gap); `stopped`: the
 * asker stopped it (what had streamed stays).
 */
export type Outcome = 'answered' | 'no_answer' | 'declined' | 'failed' | 'handed_off' | 'stopped';

export interface AnswerDeps {
  db: Database;
  /** The conversation events of every process: a claim on any server stops an answer streaming here. */
  bus: Pick<RealtimeBus, 'subscribe'>;
  publisher: ConversationPublisher;
  routing: Pick<RoutingService, 'handoff'>;
  answerer: GroundedAnswerer;
  /** The model-written title after a conversation's first answer is a job of its own. */
  outbox: Outbox<JobMap>;
  intents: Pick<IntentClassifier, 'classify'>;
  logger: Logger;
}

/** Records which documents' passages were shown to whom (the audit trail of retrieval). */
export async function auditRetrieval(
  db: Database,
  userId: string,
  hits: SearchHit[],
  details: Record<string, unknown>,
) {
  await db.transaction((tx) =>
    appendAudit(tx, {
      action: 'retrieval.shown',
      target: { type: 'user', id: userId },
      details: { ...details, passages: hits.map((h) => ({ documentId: h.documentId, chunkId: h.chunkId })) },
    }),
  );
}

/**
 * The bot's turn in a conversation: re-check the conversation is still with the bot, prepare the
 * question with the asking employee's permissions, then either say the knowledge base has nothing
 * (offering or starting a handoff) or stream a grounded, cited answer — stopping at once if an
 * agent claims the conversation. Every path ends in a completed, failed or removed message.
 */
export function createAnswerService(deps: AnswerDeps) {
  const { db, publisher, logger } = deps;

  /** No answer to stream: say so, and start or offer a handoff as the policy decided. */
  async function sayWithoutAnswer(
    question: MessageRow,
    botId: string,
    language: Language,
    outcome: Exclude<Outcome, 'answered' | 'failed' | 'stopped'>,
    decision: HandoffDecision,
    details: Record<string, unknown>,
  ) {
    const { action, reason } = decision;
    const text =
      outcome === 'handed_off' ? BOT_TEXT.passedOn : action === 'start' ? BOT_TEXT.handedOff : BOT_TEXT.noAnswer;
    const row = await createMessageRepository(db).insertBotMessage({
      conversationId: question.conversation_id,
      botId,
      body: text[language],
      status: 'complete',
      meta: { outcome, questionId: question.id, handoffOffered: action === 'offer', reason, ...details },
    });
    if (row) await publisher.message('message.created', row);
    if (decision.action === 'start') {
      await deps.routing.handoff(null, question.conversation_id, decision.reason, { questionId: question.id });
    }
  }

  /** Aborts when the conversation leaves the bot (a claim, a handoff) while a reply streams. */
  function watchClaim(conversationId: string, controller: AbortController) {
    return deps.bus.subscribe((event) => {
      if (event.type !== 'conversation.status-changed' || event.conversationId !== conversationId) return;
      if (event.to !== 'bot') controller.abort();
    });
  }

  /** Calls `onStop` when a member asks to stop the answer (the Stop button), whichever process they asked. */
  function watchStop(conversationId: string, onStop: () => void) {
    return deps.bus.subscribe((event) => {
      if (event.type === 'answer.stop-requested' && event.conversationId === conversationId) onStop();
    });
  }

  /** Removes a half-streamed answer and tells whoever shows it (the frame carries its deletion). */
  async function retract(draft: MessageRow) {
    const discarded = await createMessageRepository(db).discardStreaming(draft.id);
    if (discarded) await publisher.message('message.updated', discarded);
  }

  async function respond(
    question: MessageRow,
    conversation: { id: string; bot_id: string },
    asker: UserRow,
    stop: { requested: boolean; controller: AbortController },
  ): Promise<void> {
    const messages = createMessageRepository(db);
    const bot = await createBotRepository(db).findEnabled(conversation.bot_id);
    if (!bot) return;
    const history = (
      await messages.page(question.conversation_id, {
        before: question.id,
        limit: HISTORY_MESSAGES,
        includeInternal: false,
      })
    ).filter((m) => (m.sender_type === 'user' || m.sender_type === 'bot') && m.body);

    const handoff = handoffSettings(bot.handoff);
    const language = bot.language === 'zh' || bot.language === 'en' ? bot.language : detectLanguage(question.body);
    const onRepeat = decideHandoff({ kind: 'repeated_question' }, handoff);
    // The settings first: comparing with the history is only worth it when a repeat would hand off.
    if (onRepeat.action !== 'none' && repeatsAnsweredQuestion(question, history)) {
      await sayWithoutAnswer(question, bot.id, language, 'declined', onRepeat, {});
      return;
    }

    const turns: Turn[] = history.map((m) => ({
      role: m.sender_type === 'user' ? 'user' : 'assistant',
      content: m.body,
    }));
    // The model reads the message while retrieval runs: the answer waits for the slower of the
    // two, not for both. Undefined: the bot has no model, and the lexicon read it when it was posted.
    const reading = deps.intents.classify(bot, {
      body: question.body,
      senderId: asker.id,
      conversationId: conversation.id,
    });
    const preparing = deps.answerer.prepare(bot, asker.id, question.body, turns, conversation.id);
    // Awaited below, unless the reading hands off first and its result (or failure) no longer matters.
    preparing.catch(() => {});
    const intents = await reading;
    const onIntent = intents && decideHandoff({ kind: 'user_intent', intents }, handoff);
    if (onIntent?.action === 'start') {
      await sayWithoutAnswer(question, bot.id, language, 'handed_off', onIntent, { intents });
      return;
    }
    const prepared = await preparing;
    if (!deps.answerer.confident(prepared)) {
      const decision = decideHandoff({ kind: 'low_confidence' }, handoff);
      const details = { confidence: prepared.confidence, query: prepared.query };
      await sayWithoutAnswer(question, bot.id, prepared.language, 'no_answer', decision, details);
      return;
    }
    await auditRetrieval(db, asker.id, prepared.hits, {
      botId: bot.id,
      conversationId: conversation.id,
      messageId: question.id,
    });

    if (stop.requested) {
      // Stopped before the first word: the question gets an empty answer marked stopped, so the
      // asker's screen leaves its thinking state and nothing more is asked of the model.
      const stopped = await messages.insertBotMessage({
        conversationId: conversation.id,
        botId: bot.id,
        body: '',
        status: 'complete',
        meta: { questionId: question.id, outcome: 'stopped', handoffOffered: false },
      });
      if (stopped) await publisher.message('message.created', stopped);
      return;
    }
    const draft = await messages.insertBotMessage({
      conversationId: conversation.id,
      botId: bot.id,
      body: '',
      status: 'streaming',
      meta: { questionId: question.id, query: prepared.query, confidence: prepared.confidence },
    });
    if (!draft) return; // claimed meanwhile: the bot stays silent
    const members = await createConversationRepository(db).members(conversation.id);
    await publisher.message('message.created', draft, members);
    const memberIds = members.map((m) => m.user_id);
    let streamed = '';
    const sendDelta = (delta: string) => {
      streamed += delta;
      void publisher.delta(conversation.id, draft.id, delta, memberIds).catch(() => {});
    };

    const { controller } = stop;
    const unwatch = watchClaim(conversation.id, controller);
    let outcome: Outcome;
    let body: string;
    let citations: Citation[] = [];
    let model = prepared.model?.model ?? 'offline';
    try {
      const answer = await deps.answerer.generate(
        prepared,
        { kind: 'answer', conversationId: conversation.id },
        controller.signal,
        sendDelta,
      );
      // A stopped stream ends quietly with what it had: it stays, marked stopped.
      if (stop.requested) return keepStopped(draft, streamed, prepared.citations, answer.model);
      ({ outcome, body, citations, model } = answer);
    } catch (error) {
      if (stop.requested) return keepStopped(draft, streamed, prepared.citations, model);
      if (controller.signal.aborted) return retract(draft);
      logger.error({ err: error, messageId: draft.id }, 'answer failed');
      outcome = 'failed';
      body = BOT_TEXT.failed[prepared.language];
    } finally {
      unwatch();
    }

    const trigger = outcome === 'failed' ? 'model_failed' : 'model_declined';
    const decision = outcome === 'answered' ? undefined : decideHandoff({ kind: trigger }, handoff);
    const completed = await messages.completeBotMessage(draft.id, {
      body,
      status: outcome === 'failed' ? 'failed' : 'complete',
      citations,
      // A streamed answer the bot hands off itself has offered a person too (as it always has).
      meta: { outcome, handoffOffered: decision !== undefined && decision.action !== 'none', model },
    });
    // The claim landed between the last delta and the final write: nothing of the bot remains.
    if (!completed) return retract(draft);
    await publisher.message('message.completed', completed);
    // The first answer with a model (an earlier question may have been stopped or declined): a short
    // title from the model, in the first question's language.
    const answeredBefore = history.some((m) => m.sender_type === 'bot' && m.meta.outcome === 'answered');
    if (outcome === 'answered' && prepared.model && !answeredBefore) {
      const job = { name: 'title-conversation' as const, payload: { conversationId: conversation.id } };
      await db.transaction((tx) => deps.outbox.add(tx, [job]));
      deps.outbox.dispatch([job]);
    }
    if (decision?.action === 'start') {
      await deps.routing.handoff(null, conversation.id, decision.reason, { questionId: question.id });
    }
  }

  /** What streamed before the asker stopped it stays, complete and marked stopped, with the passages it cites. */
  async function keepStopped(draft: MessageRow, streamed: string, citations: Citation[], model: string) {
    const cited = citedIndexes(streamed);
    const completed = await createMessageRepository(db).completeBotMessage(draft.id, {
      body: streamed,
      status: 'complete',
      citations: citations.filter((c) => cited.includes(c.index)),
      meta: { outcome: 'stopped', handoffOffered: false, model },
    });
    if (!completed) return retract(draft);
    await publisher.message('message.completed', completed);
  }

  return {
    async answer(messageId: number): Promise<void> {
      const messages = createMessageRepository(db);
      const question = await messages.findById(messageId);
      if (!question || question.sender_type !== 'user' || question.deleted_at || !question.sender_id) return;
      const conversation = await createConversationRepository(db).findById(question.conversation_id);
      if (!conversation || conversation.kind !== 'bot' || conversation.status !== 'bot' || !conversation.bot_id) return;
      // A retry after a crash: an answer already stored stays; a half-streamed one is redone.
      const previous = await messages.botReplyTo(question.conversation_id, question.id);
      if (previous?.status === 'complete' || previous?.status === 'failed') return;
      if (previous) await retract(previous);

      const asker = await createUserRepository(db).findById(question.sender_id);
      if (!asker || asker.disabled) return;
      // Listening from the start: a Stop pressed while the bot is still thinking counts too.
      const stop = { requested: false, controller: new AbortController() };
      const unwatchStop = watchStop(conversation.id, () => {
        stop.requested = true;
        stop.controller.abort();
      });
      try {
        await respond(question, { id: conversation.id, bot_id: conversation.bot_id }, asker, stop);
      } finally {
        unwatchStop();
      }
    },
  };
}

export type AnswerService = ReturnType<typeof createAnswerService>;
