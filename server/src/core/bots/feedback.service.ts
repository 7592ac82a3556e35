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
import { createFeedbackRepository } from './feedback.repository.ts';

/** 👍/👎 on bot answers (the knowledge gaps they reveal are core/gaps/). */
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
  };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;
