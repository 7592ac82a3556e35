import { z } from 'zod';
import type { CopilotService } from '../../core/bots/copilot.service.ts';
import type { FeedbackService } from '../../core/bots/feedback.service.ts';
import type { AnalyticsService } from '../../core/analytics/analytics.service.ts';
import { AppError } from '../../core/errors.ts';
import type { KnowledgeService } from '../../core/knowledge/knowledge.service.ts';
import { presentDocument } from '../../core/knowledge/knowledge.presenter.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, query, uuidParam } from '../validate.ts';

export const feedbackSchema = z.strictObject({
  rating: z.union([z.literal(1), z.literal(-1)]),
  comment: z.string().trim().max(2000).optional(),
});

export const faqSchema = z.strictObject({
  collectionId: z.uuid(),
  question: z.string().trim().min(1).max(1000),
  answer: z.string().trim().min(1).max(20_000),
});

export const analyticsQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });

/** Around the bots: rating answers, the agent's copilot, analytics, and turning knowledge gaps into FAQ entries. */
export function assistRoutes(
  r: SecureRouter,
  deps: {
    analytics: AnalyticsService;
    feedback: FeedbackService;
    copilot: CopilotService;
    knowledge: KnowledgeService;
  },
) {
  r.post('/api/messages/:id/feedback', 'user', async (req, res) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new AppError(404, 'not_found', 'Message not found');
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

  r.get('/api/admin/gaps', 'admin', async (_req, res) => {
    res.json({ items: await deps.feedback.gaps(), next: null });
  });

  r.post('/api/admin/gaps/faq', 'admin', async (req, res) => {
    const input = body(faqSchema, req);
    const { document } = await deps.knowledge.addSource(
      actorOf(req),
      input.collectionId,
      { kind: 'faq', question: input.question, answer: input.answer },
      clientOf(req),
    );
    res.status(202).json({ document: presentDocument(document) });
  });
}
