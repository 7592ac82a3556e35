import { appendAudit } from '../audit/audit.service.ts';
import type { ClientInfo } from '../auth/auth.service.ts';
import { createConversationRepository } from '../conversations/conversation.repository.ts';
import { createMessageRepository } from '../conversations/message.repository.ts';
import { decideHandoff } from '../conversations/handoff-policy.ts';
import type { RoutingService } from '../conversations/routing.service.ts';
import type { Database } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { createBotRepository } from './bot.repository.ts';
import { handoffSettings } from './bot-settings.ts';
import { createFeedbackRepository, type GapRow } from './feedback.repository.ts';

const GAP_WINDOW_DAYS = 90;
const EXAMPLES = 5;

export interface Gap {
  question: string;
  count: number;
  reasons: Record<'no_answer' | 'declined' | 'negative_feedback', number>;
  lastAskedAt: string;
  botIds: string[];
  examples: { conversationId: string; messageId: number; question: string; askedAt: string; comment: string | null }[];
}

/** Questions count as the same gap when they differ only in case, spacing and punctuation. */
function gapKey(question: string): string {
  return question.toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');
}

export function groupGaps(rows: GapRow[]): Gap[] {
  const groups = new Map<string, Gap>();
  for (const row of rows) {
    const key = gapKey(row.question);
    if (!key) continue;
    const gap = groups.get(key) ?? {
      question: row.question,
      count: 0,
      reasons: { no_answer: 0, declined: 0, negative_feedback: 0 },
      lastAskedAt: row.asked_at.toISOString(),
      botIds: [],
      examples: [],
    };
    gap.count += 1;
    if (row.rating === -1) gap.reasons.negative_feedback += 1;
    else if (row.outcome === 'no_answer' || row.outcome === 'declined') gap.reasons[row.outcome] += 1;
    if (row.bot_id && !gap.botIds.includes(row.bot_id)) gap.botIds.push(row.bot_id);
    if (gap.examples.length < EXAMPLES) {
      gap.examples.push({
        conversationId: row.conversation_id,
        messageId: row.question_id,
        question: row.question,
        askedAt: row.asked_at.toISOString(),
        comment: row.comment,
      });
    }
    groups.set(key, gap);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.lastAskedAt.localeCompare(a.lastAskedAt));
}

/** 👍/👎 on bot answers, and the knowledge gaps they (and unanswered questions) reveal. */
export function createFeedbackService(deps: { db: Database; routing: Pick<RoutingService, 'handoff'> }) {
  const { db } = deps;
  return {
    async rate(
      actor: Actor,
      messageId: number,
      input: { rating: 1 | -1; comment?: string | undefined },
      client: ClientInfo,
    ) {
      const message = await createMessageRepository(db).findById(messageId);
      if (!message || message.internal) throw notFound('Message');
      const conversations = createConversationRepository(db);
      if (!(await conversations.isMember(message.conversation_id, actor.id))) throw notFound('Message');
      if (message.sender_type !== 'bot') throw new AppError(400, 'not_a_bot_message', 'Only bot answers can be rated');
      const feedback = await db.transaction(async (tx) => {
        const row = await createFeedbackRepository(tx).upsert({
          messageId,
          userId: actor.id,
          rating: input.rating,
          comment: input.comment ?? '',
        });
        await appendAudit(tx, {
          action: 'feedback.given',
          actor,
          target: { type: 'message', id: String(messageId) },
          ip: client.ip,
          details: { rating: input.rating },
        });
        return row;
      });
      // An unhappy user of a bot set up for it goes to a person straight away (see handoff-policy.ts).
      if (input.rating === -1 && message.sender_id) {
        const conversation = await conversations.findById(message.conversation_id);
        const bot = await createBotRepository(db).findById(message.sender_id);
        const decision = decideHandoff({ kind: 'negative_feedback' }, handoffSettings(bot?.handoff));
        if (conversation?.status === 'bot' && decision.action === 'start') {
          await deps.routing.handoff(actor, conversation.id, decision.reason, { messageId });
        }
      }
      return feedback;
    },

    async gaps(limit = 2000): Promise<Gap[]> {
      const since = new Date(Date.now() - GAP_WINDOW_DAYS * 86_400_000);
      return groupGaps(await createFeedbackRepository(db).gaps(since, limit));
    },
  };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;
