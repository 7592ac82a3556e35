import { appendAudit } from '../audit/audit.service.ts';
import type { ClientInfo } from '../auth/auth.service.ts';
import type { ConversationService } from '../conversations/conversation.service.ts';
import { createMessageRepository } from '../conversations/message.repository.ts';
import type { Database } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { KnowledgeService } from '../knowledge/knowledge.service.ts';
import type { Actor } from '../policy/actor.ts';
import { createGapRepository, type FaqDraftRow, type GapResolutionRow, type GapRow } from './gap.repository.ts';

const GAP_WINDOW_DAYS = 90;
const EXAMPLES = 5;
const DRAFTS_SHOWN = 200;

export interface Gap {
  question: string;
  count: number;
  reasons: Record<'no_answer' | 'declined' | 'negative_feedback', number>;
  lastAskedAt: string;
  botIds: string[];
  examples: { conversationId: string; messageId: number; question: string; askedAt: string; comment: string | null }[];
  /** `resolved`: answered by an FAQ entry and not asked unanswered since; `reopened`: asked unanswered after that. */
  status: 'open' | 'resolved' | 'reopened';
  resolution: { documentId: string; documentTitle: string; by: string | null; at: string } | null;
}

/** Questions count as the same gap when they differ only in case, spacing and punctuation. */
export function gapKey(question: string): string {
  return question.toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');
}

/** `resolutions`: what answered which gap (by key); a later one for the same key wins. */
function groupGaps(rows: GapRow[], resolutions: GapResolutionRow[] = []): Gap[] {
  const resolved = new Map<string, GapResolutionRow>();
  for (const r of resolutions) {
    const known = resolved.get(r.gap_key);
    if (!known || r.resolved_at > known.resolved_at) resolved.set(r.gap_key, r);
  }
  const groups = new Map<string, Gap>();
  for (const row of rows) {
    const key = gapKey(row.question);
    if (!key) continue;
    const resolution = resolved.get(key);
    const gap = groups.get(key) ?? {
      question: row.question,
      count: 0,
      reasons: { no_answer: 0, declined: 0, negative_feedback: 0 },
      lastAskedAt: row.asked_at.toISOString(),
      botIds: [],
      examples: [],
      // Rows come newest first: the first one decides whether anyone asked after the resolution.
      status: !resolution ? 'open' : row.asked_at > resolution.resolved_at ? 'reopened' : 'resolved',
      resolution: resolution
        ? {
            documentId: resolution.document_id,
            documentTitle: resolution.document_title,
            by: resolution.resolved_by_name,
            at: resolution.resolved_at.toISOString(),
          }
        : null,
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

export function presentFaqDraft(row: FaqDraftRow) {
  return {
    id: row.id,
    question: row.question,
    answer: row.answer,
    conversationId: row.conversation_id,
    messageId: row.message_id,
    proposedBy: row.proposed_by ? { id: row.proposed_by, name: row.proposed_by_name ?? '' } : null,
    proposedAt: row.proposed_at.toISOString(),
    status: row.status,
    reviewedAt: row.reviewed_at?.toISOString() ?? null,
    documentId: row.document_id,
  };
}

export interface FaqEntry {
  collectionId: string;
  question: string;
  answer: string;
  groups?: string[] | undefined;
}

/**
 * Knowledge gaps — questions the bots could not answer well — and how they close: an admin answers
 * one with an FAQ entry (the gap is resolved until someone asks it unanswered again), or approves
 * an FAQ draft an agent made from a reply in a handed-off conversation.
 */
export function createGapService(deps: {
  db: Database;
  knowledge: Pick<KnowledgeService, 'addSource'>;
  conversations: Pick<ConversationService, 'readable'>;
}) {
  const { db } = deps;

  async function addFaq(actor: Actor, entry: FaqEntry, client: ClientInfo, gapQuestion: string) {
    const result = await deps.knowledge.addSource(
      actor,
      entry.collectionId,
      { kind: 'faq', question: entry.question, answer: entry.answer },
      client,
      { groups: entry.groups },
    );
    const key = gapKey(gapQuestion);
    if (key) {
      await createGapRepository(db).resolve({
        gapKey: key,
        question: gapQuestion,
        documentId: result.document.id,
        resolvedBy: actor.id,
      });
    }
    return result.document;
  }

  return {
    async list(status: 'open' | 'resolved' | 'all', limit = 2000): Promise<Gap[]> {
      const repo = createGapRepository(db);
      const since = new Date(Date.now() - GAP_WINDOW_DAYS * 86_400_000);
      const [rows, faqs, resolutions] = await Promise.all([
        repo.unansweredSince(since, limit),
        repo.faqEntries(),
        repo.resolutions(),
      ]);
      // An FAQ entry with the gap's question answers it wherever it was added; one an admin wrote
      // from the gaps page (perhaps worded differently) is recorded as the gap's resolution.
      const answered = [...faqs.map((f) => ({ ...f, gap_key: gapKey(f.question) })), ...resolutions];
      const gaps = groupGaps(rows, answered);
      if (status === 'all') return gaps;
      return gaps.filter((g) => (status === 'resolved' ? g.status === 'resolved' : g.status !== 'resolved'));
    },

    /** `gapQuestion`: the gap being answered, when the admin reworded the FAQ's question. */
    answerWithFaq(actor: Actor, entry: FaqEntry & { gapQuestion?: string | undefined }, client: ClientInfo) {
      return addFaq(actor, entry, client, entry.gapQuestion ?? entry.question);
    },

    /**
     * An agent proposes their reply as an FAQ entry. The question defaults to the employee's last
     * message before the reply; nothing is indexed until an admin approves the draft.
     */
    async proposeDraft(
      agent: Actor,
      messageId: number,
      input: { question?: string | undefined; answer?: string | undefined },
      client: ClientInfo,
    ) {
      const messages = createMessageRepository(db);
      const reply = await messages.findById(messageId);
      if (!reply || reply.deleted_at) throw notFound('Message');
      const { members } = await deps.conversations.readable(agent, reply.conversation_id);
      // Internal notes are staff-only: they never become something employees can find.
      if (reply.sender_type !== 'agent' || reply.internal) {
        throw new AppError(400, 'not_an_agent_reply', "Only an agent's reply to the employee can become an FAQ draft");
      }
      const employee = members.find((m) => m.role === 'owner');
      const question =
        input.question ??
        (employee ? (await messages.lastFrom(reply.conversation_id, employee.user_id, messageId))?.body : undefined);
      if (!question?.trim()) {
        throw new AppError(400, 'question_required', 'Say which question this reply answers');
      }
      const answer = input.answer ?? reply.body;
      const { row, created } = await db.transaction(async (tx) => {
        const inserted = await createGapRepository(tx).insertDraft({
          question: question.trim().slice(0, 1000),
          answer: answer.trim().slice(0, 20_000),
          conversationId: reply.conversation_id,
          messageId,
          proposedBy: agent.id,
        });
        if (inserted.created) {
          await appendAudit(tx, {
            action: 'faq_draft.proposed',
            actor: agent,
            target: { type: 'faq_draft', id: inserted.row.id },
            ip: client.ip,
            details: { question: inserted.row.question, conversationId: reply.conversation_id, messageId },
          });
        }
        return inserted;
      });
      return { draft: presentFaqDraft(row), created };
    },

    async drafts(status: FaqDraftRow['status']) {
      return (await createGapRepository(db).drafts(status, DRAFTS_SHOWN)).map(presentFaqDraft);
    },

    /** Indexes the draft (as edited by the admin) as an FAQ entry, and closes the gap it answers. */
    async approveDraft(admin: Actor, id: string, entry: FaqEntry, client: ClientInfo) {
      const repo = createGapRepository(db);
      const draft = await db.transaction(async (tx) => {
        const reviewed = await createGapRepository(tx).review(id, { status: 'approved', reviewedBy: admin.id });
        if (!reviewed) return null;
        await appendAudit(tx, {
          action: 'faq_draft.approved',
          actor: admin,
          target: { type: 'faq_draft', id },
          ip: client.ip,
          details: { question: entry.question, collectionId: entry.collectionId },
        });
        return reviewed;
      });
      if (!draft) throw await notPending(id);
      let document;
      try {
        document = await addFaq(admin, entry, client, draft.question);
      } catch (error) {
        await repo.reopenDraft(id);
        throw error;
      }
      await repo.linkDraftDocument(id, document.id);
      return { draft: presentFaqDraft({ ...draft, document_id: document.id }), document };
    },

    async rejectDraft(admin: Actor, id: string, client: ClientInfo) {
      const draft = await db.transaction(async (tx) => {
        const reviewed = await createGapRepository(tx).review(id, { status: 'rejected', reviewedBy: admin.id });
        if (reviewed) {
          await appendAudit(tx, {
            action: 'faq_draft.rejected',
            actor: admin,
            target: { type: 'faq_draft', id },
            ip: client.ip,
            details: { question: reviewed.question },
          });
        }
        return reviewed;
      });
      if (!draft) throw await notPending(id);
      return presentFaqDraft(draft);
    },
  };

  async function notPending(id: string) {
    const draft = await createGapRepository(db).findDraft(id);
    return draft
      ? new AppError(409, 'already_reviewed', `This draft was already ${draft.status}`)
      : notFound('FAQ draft');
  }
}

export type GapService = ReturnType<typeof createGapService>;
