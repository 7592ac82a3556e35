import { z } from 'zod';
import type { GapService } from '../../core/gaps/gap.service.ts';
import { presentDocument } from '../../core/knowledge/knowledge.presenter.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, messageIdParam, query, uuidParam } from '../validate.ts';

const question = z.string().trim().min(1).max(1000);
const answer = z.string().trim().min(1).max(20_000);

export const gapsQuery = z.object({ status: z.enum(['open', 'resolved', 'all']).default('open') });

/** An FAQ entry as the admin wrote it; `groups` narrow who may read it within the collection. */
export const faqEntrySchema = z.strictObject({
  collectionId: z.uuid(),
  question,
  answer,
  groups: z.array(z.uuid()).max(200).optional(),
});

export const faqSchema = faqEntrySchema.extend({
  /** The gap being answered, when the FAQ's question is worded differently. */
  gapQuestion: question.optional(),
});

export const faqDraftSchema = z.strictObject({ question: question.optional(), answer: answer.optional() });

export const faqDraftsQuery = z.object({ status: z.enum(['pending', 'approved', 'rejected']).default('pending') });

/** Knowledge gaps and how they close: FAQ entries from admins, FAQ drafts from agents' replies. */
export function gapsRoutes(r: SecureRouter, deps: { gaps: GapService }) {
  r.get('/api/admin/gaps', 'admin', async (req, res) => {
    const { status } = query(gapsQuery, req);
    res.json({ items: await deps.gaps.list(status), next: null });
  });

  r.post('/api/admin/gaps/faq', 'admin', async (req, res) => {
    const document = await deps.gaps.answerWithFaq(actorOf(req), body(faqSchema, req), clientOf(req));
    res.status(202).json({ document: presentDocument(document) });
  });

  r.post('/api/messages/:id/faq-draft', 'agent', async (req, res) => {
    const id = messageIdParam(req);
    const { draft, created } = await deps.gaps.proposeDraft(actorOf(req), id, body(faqDraftSchema, req), clientOf(req));
    res.status(created ? 201 : 200).json({ draft });
  });

  r.get('/api/admin/faq-drafts', 'admin', async (req, res) => {
    const { status } = query(faqDraftsQuery, req);
    res.json({ items: await deps.gaps.drafts(status), next: null });
  });

  r.post('/api/admin/faq-drafts/:id/approve', 'admin', async (req, res) => {
    const result = await deps.gaps.approveDraft(actorOf(req), uuidParam(req), body(faqEntrySchema, req), clientOf(req));
    res.status(202).json({ draft: result.draft, document: presentDocument(result.document) });
  });

  r.post('/api/admin/faq-drafts/:id/reject', 'admin', async (req, res) => {
    res.json({ draft: await deps.gaps.rejectDraft(actorOf(req), uuidParam(req), clientOf(req)) });
  });
}
