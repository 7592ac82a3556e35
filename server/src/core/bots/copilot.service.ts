import type { ConversationService } from '../conversations/conversation.service.ts';
import { createMessageRepository, type MessageRow } from '../conversations/message.repository.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { createBotRepository, type BotRow } from './bot.repository.ts';
import { createRetrievalRepository } from '../knowledge/retrieval.repository.ts';
import { citedIndexes, fenceContext, withoutCitationMarkers, type Citation } from './grounding.ts';
import type { GroundedAnswerer, PreparedQuestion, Turn } from './grounded-answerer.ts';
import { languageName } from './language.ts';
import { withoutOfflineLabel } from './offline-answerer.ts';
import { renderPrompt, type PromptSet } from './prompts.ts';
import { createUsageRepository } from './usage.repository.ts';
import { auditRetrieval } from './answer.service.ts';

const TRANSCRIPT_MESSAGES = 30;

/** Support conversations have no bot: the copilot searches every collection the employee may read. */
const SUPPORT_DEFAULTS: BotRow = {
  id: '',
  slug: '',
  name: 'Support',
  description: '',
  greeting: '',
  language: 'auto',
  collection_ids: [],
  prompts: {},
  model: {},
  handoff: {},
  enabled: true,
  users: 'everyone',
  created_at: new Date(0),
  updated_at: new Date(0),
};

function transcriptOf(messages: MessageRow[]): string {
  return messages
    .map((m) => `${m.sender_type === 'user' ? 'Employee' : m.sender_type === 'bot' ? 'Assistant' : 'Agent'}: ${m.body}`)
    .join('\n');
}

/**
 * The agent's copilot: a summary of the conversation and a drafted reply with citations. Retrieval
 * runs with the *employee's* permissions (the draft is for them), and then keeps only the passages
 * the *agent* may read too: neither is shown, nor sends to the model, what the other may not read.
 * The conversation itself (the employee's words, the bot's answers) stays whole: the employee
 * handed it over.
 */
export function createCopilotService(deps: {
  db: Database;
  answerer: GroundedAnswerer;
  conversations: Pick<ConversationService, 'readable'>;
  prompts: PromptSet;
}) {
  const { db } = deps;
  const passages = createRetrievalRepository(db);

  /** The prepared question with only the passages `readerId` may read, numbered afresh for the prompt. */
  async function within(readerId: string, prepared: PreparedQuestion): Promise<PreparedQuestion> {
    const readable = await passages.readablePassageIds(
      readerId,
      prepared.hits.map((h) => h.chunkId),
    );
    return deps.answerer.narrowed(prepared, (h) => readable.has(h.chunkId));
  }

  /** The citations of a stored bot answer that `readerId` may open. */
  async function readableCitations(readerId: string, citations: Citation[]): Promise<Citation[]> {
    const readable = await passages.readablePassageIds(
      readerId,
      citations.map((c) => c.chunkId),
    );
    return citations.filter((c) => readable.has(c.chunkId));
  }

  return {
    async suggest(agent: Actor, conversationId: string) {
      const { conversation, members } = await deps.conversations.readable(agent, conversationId);
      const employee = members.find((m) => m.role === 'owner');
      if (!employee || (conversation.kind !== 'bot' && conversation.kind !== 'support')) {
        throw new AppError(
          409,
          'no_employee',
          'Suggestions are for conversations between an employee and the support team',
        );
      }
      const history = (
        await createMessageRepository(db).page(conversationId, { limit: TRANSCRIPT_MESSAGES, includeInternal: false })
      ).filter((m) => m.body && !m.deleted_at);
      const lastQuestion = [...history]
        .reverse()
        .find((m) => m.sender_type === 'user' && m.sender_id === employee.user_id);
      const lastBot = [...history]
        .reverse()
        .find((m) => m.sender_type === 'bot' && (m.citations as Citation[]).length > 0);
      const bot =
        (conversation.bot_id && (await createBotRepository(db).findById(conversation.bot_id))) || SUPPORT_DEFAULTS;
      const turns: Turn[] = history
        .filter((m) => m !== lastQuestion)
        .map((m) => ({ role: m.sender_type === 'user' ? 'user' : 'assistant', content: m.body }));
      const prepared = await within(
        agent.id,
        await deps.answerer.prepare(
          bot,
          employee.user_id,
          lastQuestion?.body ?? conversation.title,
          turns,
          conversationId,
        ),
      );
      if (prepared.hits.length)
        await auditRetrieval(db, agent.id, prepared.hits, {
          conversationId,
          forEmployee: employee.user_id,
          via: 'copilot',
        });
      const transcript = transcriptOf(history);
      const language = languageName(prepared.language);
      const model = prepared.model;
      // The bot's decision, so the agent is never offered what the bot would decline.
      const answerable = deps.answerer.confident(prepared);

      let summary: string;
      let draft = '';
      let citations: Citation[] = [];
      if (model) {
        const usage = createUsageRepository(db);
        const complete = async (kind: 'summary' | 'suggestion', prompt: string, system?: string) => {
          const started = Date.now();
          const messages = [
            ...(system ? [{ role: 'system' as const, content: system }] : []),
            { role: 'user' as const, content: prompt },
          ];
          const result = await model.stream({ messages, temperature: 0.2, maxTokens: 600 }, () => {});
          await usage.record({
            kind,
            model: result.model,
            botId: bot.id || null,
            userId: agent.id,
            conversationId,
            promptTokens: result.promptTokens,
            completionTokens: result.completionTokens,
            latencyMs: Date.now() - started,
          });
          return result.text.trim();
        };
        const fenced = fenceContext(prepared.hits);
        [summary, draft] = await Promise.all([
          complete(
            'summary',
            renderPrompt(
              deps.prompts,
              'summary',
              { transcript, reason: conversation.handoff_reason ?? 'none', language },
              bot.prompts,
            ),
          ),
          answerable
            ? complete(
                'suggestion',
                renderPrompt(
                  deps.prompts,
                  'suggestion',
                  { context: fenced.context, transcript, language },
                  bot.prompts,
                ),
                renderPrompt(deps.prompts, 'untrusted-data', { boundary: fenced.boundary }, bot.prompts),
              )
            : '',
        ]);
        // The draft is read by an agent who may send it on: it carries only the links an answer may.
        draft = deps.answerer.keepAllowedLinks(prepared, draft);
        const cited = citedIndexes(draft);
        citations = cited.length ? prepared.citations.filter((c) => cited.includes(c.index)) : prepared.citations;
      } else {
        // Offline: the employee's own questions are the summary; the draft is the bot's own answer,
        // without the label that tells the employee it is quoted offline (the agent sends it as theirs).
        const questions = history.filter((m) => m.sender_type === 'user').map((m) => `- ${m.body}`);
        summary = questions.slice(-5).join('\n');
        if (answerable) {
          const offline = await deps.answerer.generate(
            prepared,
            { kind: 'suggestion', conversationId },
            new AbortController().signal,
            () => {},
          );
          if (offline.outcome === 'answered')
            [draft, citations] = [withoutOfflineLabel(offline.body, prepared.language), offline.citations];
        }
      }
      return {
        summary,
        reason: conversation.handoff_reason,
        // The reply box gets text to send as is; the citations stay beside it.
        reply: { body: withoutCitationMarkers(draft), citations },
        botCitations: await readableCitations(agent.id, (lastBot?.citations as Citation[] | undefined) ?? []),
        model: model?.model ?? 'offline',
      };
    },
  };
}

export type CopilotService = ReturnType<typeof createCopilotService>;
/** The agent's context packet: summary, handoff reason, drafted reply, what the bot cited (the web app imports it). */
export type Suggestion = Awaited<ReturnType<CopilotService['suggest']>>;
