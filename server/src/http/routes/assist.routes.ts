import { z } from 'zod';
import type { CopilotService } from '../../core/bots/copilot.service.ts';
import type { FeedbackService } from '../../core/bots/feedback.service.ts';
import type { AnalyticsService } from '../../core/analytics/analytics.service.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, messageIdParam, query, uuidParam } from '../validate.ts';

export const feedbackSchema = z.strictObject({
  rating: z.union([z.literal(1), z.literal(-1)]),
  comment: z.string().trim().max(2000).optional(),
});

export const analyticsQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });

/** Around the bots: rating answers, the agent's copilot, analytics. */
export function assistRoutes(
  r: SecureRouter,
  deps: {
    analytics: AnalyticsService;
    feedback: FeedbackService;
    copilot: CopilotService;
  },
) {
  r.post('/api/messages/:id/feedback', 'user', async (req, res) => {
    const id = messageIdParam(req);
    const f = await deps.feedback.rate(actorOf(req), id, body(feedbackSchema, req), clientOf(req));
    res.json({
      feedback: {
        messageId: f.message_id,
        rating: f.rating,
        comment: f.comment,
        createdAt: f.created_at.toISOString(),
      },
    });
  });

  r.get('/api/conversations/:id/suggestion', 'agent', async (req, res) => {
    res.json({ suggestion: await deps.copilot.suggest(actorOf(req), uuidParam(req)) });
  });

  r.get('/api/admin/analytics', 'admin', async (req, res) => {
    const { days } = query(analyticsQuery, req);
    res.json({ analytics: await deps.analytics.summary(days) });
  });
}
