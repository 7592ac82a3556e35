import type { Config } from '../../config.ts';
import type { Database } from '../db/database.ts';
import type { RankedHit, RetrievalService } from '../knowledge/retrieval.service.ts';
import type { ChatModel } from '../llm/chat-model.ts';
import type { Logger } from '../logger.ts';
import type { BotRow } from './bot.repository.ts';
import { handoffSettings, modelSettings, type BotHandoffSettings, type BotModelSettings } from './bot-settings.ts';
import type { AnswerabilityModel } from './answerability.ts';
import { createLinkFilter, keepAllowedLinks, type LinkPolicy } from './answer-links.ts';
import { buildCitations, citedIndexes, fenceContext, type Citation } from './grounding.ts';
import { recentTurns, modelTokenCounter, type Turn } from './conversation-memory.ts';
import { createCrossLanguageSearch, mergeHits } from './cross-language-search.ts';
import { BOT_TEXT, detectLanguage, languageName, type Language } from './language.ts';
import { modelForBot, type ModelTimeouts } from './model-for-bot.ts';
import { composeOfflineAnswer } from './offline-answerer.ts';
import { renderPrompt, type PromptSet } from './prompts.ts';
import { rewriteQuestion } from './question-rewrite.ts';
import type { OnBotRedaction } from './redaction-audit.ts';
import { createUsageRepository, type UsageRecord } from './usage.repository.ts';

const NO_ANSWER = '[[NO_ANSWER]]';
const PASSAGES = 6;

export type { Turn };

/** A question made ready to answer: the model to use, what was retrieved and how sure retrieval is. */
export interface PreparedQuestion {
  bot: BotRow;
  askerId: string;
  question: string;
  /** The standalone form used for retrieval. */
  query: string;
  /** The standalone form in the documents' language, searched too, when the question is in another one. */
  translatedQuery: string | null;
  /** It asks to rework the previous answer (shorten, explain, translate it): answerable without new passages. */
  followUp: boolean;
  /** The earlier turns the answer call carries, within the bot's history budget (none offline). */
  history: Turn[];
  language: Language;
  model: ChatModel | undefined;
  modelSettings: BotModelSettings;
  handoff: BotHandoffSettings;
  /** The passages that reach the prompt and the citations: those that cleared the relevance cut-off. */
  hits: RankedHit[];
  /** The probability (0–1) that the best passage answers the question. */
  confidence: number;
  /** Whether to answer at all: else the bot says the knowledge base has nothing (and offers a person). */
  answerable: boolean;
  citations: Citation[];
}

export interface GroundedAnswer {
  outcome: 'answered' | 'declined';
  body: string;
  citations: Citation[];
  model: string;
  promptTokens: number;
  completionTokens: number;
}

export interface AnswererDeps {
  db: Database;
  retrieval: Pick<RetrievalService, 'searchWithEvidence'>;
  answerability: AnswerabilityModel;
  prompts: PromptSet;
  config: Pick<Config, 'chat' | 'redaction' | 'answerLinks'>;
  timeouts: ModelTimeouts;
  logger: Logger;
  /** Told of every model request, for metrics. */
  onUsage?: (usage: UsageRecord) => void;
  /** Told of every model request that had personal data replaced, for metrics and the audit log. */
  onRedacted?: OnBotRedaction;
}

/**
 * The one grounded-answer pipeline, shared by bot conversations, the agent's copilot and the
 * OpenAI-compatible API: standalone question → retrieval with the asker's permissions, reranked →
 * relevance cut-off → answerability decision → a cited answer streamed from the bot's model, or
 * composed offline from the passages' sentences. Same question, same documents: same decision.
 */
export function createGroundedAnswerer(deps: AnswererDeps) {
  const { db, logger } = deps;
  const crossLanguage = createCrossLanguageSearch(db);

  /** Links an answer to `prepared` may keep: its passages' own URLs and the allowed domains. */
  function linkPolicy(prepared: PreparedQuestion): LinkPolicy {
    return {
      sourceUrls: prepared.hits.flatMap((h) => (h.sourceUrl ? [h.sourceUrl] : [])),
      allowedDomains: deps.config.answerLinks.allowedDomains,
    };
  }

  async function record(usage: Omit<UsageRecord, 'latencyMs'>, started: number) {
    const full = { ...usage, botId: usage.botId || null, latencyMs: Date.now() - started };
    deps.onUsage?.(full);
    await createUsageRepository(db).record(full);
  }

  return {
    async prepare(
      bot: BotRow,
      askerId: string,
      question: string,
      history: Turn[],
      conversationId: string | null,
    ): Promise<PreparedQuestion> {
      const settings = modelSettings(bot.model);
      const context = { botId: bot.id, userId: askerId, conversationId };
      const model = modelForBot(deps.config, settings, deps.timeouts, (counts) => deps.onRedacted?.(context, counts));
      const language = bot.language === 'zh' || bot.language === 'en' ? bot.language : detectLanguage(question);
      const budget = settings.historyTokens ?? deps.config.chat.historyTokens;
      const questionLanguage = detectLanguage(question);
      // Only a model can translate the question, so only then is the documents' language worth a look.
      const alsoSearchIn = model
        ? await crossLanguage.languageToAlsoSearch(askerId, bot.collection_ids, questionLanguage)
        : null;
      const rewrite = await rewriteQuestion(
        // Offline, the whole history: a follow-up borrows the previous question's terms, as it always has.
        { question, history: model ? recentTurns(history, budget) : history, alsoSearchIn, questionLanguage },
        {
          model,
          prompts: deps.prompts,
          overrides: bot.prompts,
          logger,
          record: (result, started) =>
            record(
              {
                kind: 'rewrite',
                model: result.model,
                botId: bot.id,
                userId: askerId,
                conversationId,
                promptTokens: result.promptTokens,
                completionTokens: result.completionTokens,
              },
              started,
            ),
        },
      );
      const queries = rewrite.translatedQuery ? [rewrite.query, rewrite.translatedQuery] : [rewrite.query];
      const found = await Promise.all(
        queries.map(async (query) => {
          const input = { query, collectionIds: bot.collection_ids, k: PASSAGES };
          return (await deps.retrieval.searchWithEvidence({ id: askerId }, input)).hits;
        }),
      );
      const handoff = handoffSettings(bot.handoff);
      const decision = deps.answerability.decide(mergeHits(found, PASSAGES), {
        minConfidence: handoff.minScore,
        max: PASSAGES,
        modelDecides: model !== undefined,
      });
      return {
        bot,
        askerId,
        question,
        query: rewrite.query,
        translatedQuery: rewrite.translatedQuery,
        followUp: rewrite.followUp && history.some((t) => t.role === 'assistant'),
        history: model ? recentTurns(history, budget, modelTokenCounter(rewrite.measured)) : [],
        language,
        model,
        modelSettings: settings,
        handoff,
        hits: decision.passages,
        confidence: decision.confidence,
        answerable: decision.answerable,
        citations: buildCitations(decision.passages),
      };
    },

    /**
     * `prepared` with only the passages `keep` admits (a reader who may not read them all), decided
     * again: what is left may no longer answer the question (the copilot drafts only from it).
     */
    narrowed(prepared: PreparedQuestion, keep: (hit: RankedHit) => boolean): PreparedQuestion {
      const hits = prepared.hits.filter(keep);
      if (hits.length === prepared.hits.length) return prepared;
      const decision = deps.answerability.decide(hits, {
        minConfidence: prepared.handoff.minScore,
        max: PASSAGES,
        modelDecides: prepared.model !== undefined,
      });
      return {
        ...prepared,
        hits: decision.passages,
        confidence: decision.confidence,
        answerable: decision.answerable,
        citations: buildCitations(decision.passages),
      };
    },

    /** `text` with only the links an answer to `prepared` may keep (answer-links.ts); the copilot's drafts use it. */
    keepAllowedLinks(prepared: PreparedQuestion, text: string): string {
      return keepAllowedLinks(text, linkPolicy(prepared));
    },

    /** Whether there is anything to answer from (else the bot says the knowledge base has nothing). */
    confident(prepared: PreparedQuestion): boolean {
      // Reworking the previous answer needs no new passages: the conversation holds what it needs.
      return prepared.followUp || prepared.answerable;
    },

    /**
     * Streams the answer through `onDelta`. Model faults surface as ModelError (after the model's
     * own retries); an abort surfaces as the signal's reason. What streams and the body returned
     * keep only the links the answer may carry (answer-links.ts): a document's link is not the
     * bot's recommendation.
     */
    async generate(
      prepared: PreparedQuestion,
      usage: Pick<UsageRecord, 'kind' | 'conversationId'>,
      signal: AbortSignal,
      onDelta: (delta: string) => void,
    ): Promise<GroundedAnswer> {
      const { bot, model, language, hits, citations } = prepared;
      const policy = linkPolicy(prepared);
      const declined = (modelName: string, promptTokens = 0, completionTokens = 0): GroundedAnswer => ({
        outcome: 'declined',
        body: BOT_TEXT.noAnswer[language],
        citations: [],
        model: modelName,
        promptTokens,
        completionTokens,
      });
      if (!model) {
        const offline = composeOfflineAnswer(
          prepared.query,
          hits.map((h, i) => ({ index: i + 1, title: h.title, text: h.text, page: h.page })),
          language,
        );
        if (!offline) return declined('offline');
        const body = keepAllowedLinks(offline.text, policy);
        for (const piece of body.split(/(?<=\n)/)) onDelta(piece);
        return {
          outcome: 'answered',
          body,
          citations: citations.filter((c) => offline.cited.includes(c.index)),
          model: 'offline',
          promptTokens: 0,
          completionTokens: 0,
        };
      }
      const fenced = fenceContext(hits);
      // The untrusted-data rules follow the bot's own instructions, so an overridden answer.system keeps them too.
      const system = [
        renderPrompt(
          deps.prompts,
          'answer.system',
          { botName: bot.name, language: languageName(language) },
          bot.prompts,
        ),
        renderPrompt(deps.prompts, 'untrusted-data', { boundary: fenced.boundary }, bot.prompts),
      ].join('\n\n');
      const user = renderPrompt(
        deps.prompts,
        'answer.user',
        { context: fenced.context, question: prepared.query },
        bot.prompts,
      );
      // Hold back the first characters until they cannot be the decline marker, so it never flashes on screen.
      let held = '';
      let releasing = false;
      const links = createLinkFilter(policy);
      const release = (text: string) => {
        const ready = links.push(text);
        if (ready) onDelta(ready);
      };
      const started = Date.now();
      const result = await model.stream(
        {
          messages: [{ role: 'system', content: system }, ...prepared.history, { role: 'user', content: user }],
          temperature: prepared.modelSettings.temperature ?? 0.2,
          maxTokens: prepared.modelSettings.maxTokens,
          signal,
        },
        (delta) => {
          if (releasing) return release(delta);
          held += delta;
          const start = held.trimStart();
          if (start.length < NO_ANSWER.length && NO_ANSWER.startsWith(start)) return;
          if (start.startsWith(NO_ANSWER)) return;
          releasing = true;
          release(held);
        },
      );
      const rest = links.end();
      if (rest) onDelta(rest);
      await record(
        {
          ...usage,
          model: result.model,
          botId: bot.id,
          userId: prepared.askerId,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
        },
        started,
      );
      const text = result.text.trim();
      if (!text || text.startsWith(NO_ANSWER))
        return declined(result.model, result.promptTokens, result.completionTokens);
      const cited = citedIndexes(text);
      return {
        outcome: 'answered',
        body: keepAllowedLinks(text, policy),
        citations: cited.length ? citations.filter((c) => cited.includes(c.index)) : citations,
        model: result.model,
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
      };
    },
  };
}

export type GroundedAnswerer = ReturnType<typeof createGroundedAnswerer>;
