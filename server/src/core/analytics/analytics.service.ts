import type { Database } from '../db/database.ts';
import { createConversationRatingRepository } from '../conversations/conversation-rating.repository.ts';
import { createAnalyticsRepository } from './analytics.repository.ts';

/** The admin dashboard's numbers for the last `days` days. */
async function analyticsFor(db: Database, days: number) {
  const since = new Date(Date.now() - days * 86_400_000);
  const repo = createAnalyticsRepository(db);
  const [perDay, outcomes, reasons, times, feedback, perBot, perGroup, csat] = await Promise.all([
    repo.conversationsPerDay(since),
    repo.botOutcomes(since),
    repo.handoffReasons(since),
    repo.medianTimes(since),
    repo.feedback(since),
    repo.tokensPerBot(since),
    repo.tokensPerGroup(since),
    createConversationRatingRepository(db).summary(since),
  ]);
  const rate = (part: number, whole: number) => (whole ? part / whole : null);
  return {
    since: since.toISOString(),
    days,
    conversationsPerDay: perDay,
    botConversations: outcomes.total,
    // Deflection: bot conversations that never needed a person.
    deflectionRate: rate(outcomes.total - outcomes.handed_off, outcomes.total),
    handoffRate: rate(outcomes.handed_off, outcomes.total),
    handoffReasons: reasons,
    medianWaitSeconds: times.wait,
    medianResolveSeconds: times.resolve,
    // Satisfaction with conversations people resolved: the 1–5 ratings given or changed in the range.
    csat,
    feedback: { ...feedback, positiveRate: rate(feedback.positive, feedback.positive + feedback.negative) },
    tokensPerBot: perBot.map((b) => ({
      botId: b.bot_id,
      name: b.name,
      promptTokens: b.prompt_tokens,
      completionTokens: b.completion_tokens,
      requests: b.requests,
    })),
    tokensPerGroup: perGroup.map((g) => ({ groupId: g.group_id, name: g.name, tokens: g.tokens })),
  };
}

export function createAnalyticsService(deps: { db: Database }) {
  return { summary: (days: number) => analyticsFor(deps.db, days) };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
/** The admin dashboard's numbers (the web app imports this type). */
export type Analytics = Awaited<ReturnType<AnalyticsService['summary']>>;
