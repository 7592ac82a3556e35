import type { Queryable } from '../db/database.ts';

/** One question the knowledge base did not serve: no answer, a declined answer, or a 👎. */
export interface GapRow {
  question: string;
  question_id: number;
  conversation_id: string;
  bot_id: string | null;
  outcome: string | null;
  rating: number | null;
  comment: string | null;
  asked_at: Date;
}

export interface GapResolutionRow {
  gap_key: string;
  question: string;
  document_id: string;
  document_title: string;
  resolved_by: string | null;
  resolved_by_name: string | null;
  resolved_at: Date;
}

export interface FaqDraftRow {
  id: string;
  question: string;
  answer: string;
  conversation_id: string | null;
  message_id: number | null;
  proposed_by: string | null;
  proposed_by_name: string | null;
  proposed_at: Date;
  status: 'pending' | 'approved' | 'rejected';
  reviewed_by: string | null;
  reviewed_at: Date | null;
  document_id: string | null;
}

const DRAFT_COLUMNS = `d.*, u.name AS proposed_by_name`;

export function createGapRepository(db: Queryable) {
  return {
    async unansweredSince(since: Date, limit: number): Promise<GapRow[]> {
      const { rows } = await db.query<GapRow>(
        `SELECT q.body AS question, q.id AS question_id, q.conversation_id, b.sender_id AS bot_id,
                b.meta ->> 'outcome' AS outcome, f.rating, f.comment, q.created_at AS asked_at
           FROM messages b
           JOIN messages q ON q.id = (b.meta ->> 'questionId')::bigint
           LEFT JOIN feedback f ON f.message_id = b.id AND f.rating = -1
          WHERE b.sender_type = 'bot' AND b.created_at >= $1
            AND (b.meta ->> 'outcome' IN ('no_answer', 'declined') OR f.id IS NOT NULL)
          ORDER BY q.created_at DESC
          LIMIT $2`,
        [since, limit],
      );
      return rows;
    },

    async resolutions(): Promise<GapResolutionRow[]> {
      const { rows } = await db.query<GapResolutionRow>(
        `SELECT r.*, d.title AS document_title, u.name AS resolved_by_name
           FROM gap_resolutions r
           JOIN documents d ON d.id = r.document_id
           LEFT JOIN users u ON u.id = r.resolved_by`,
      );
      return rows;
    },

    /** FAQ entries that are (or are becoming) searchable: each answers the gap its question names. */
    async faqEntries(): Promise<GapResolutionRow[]> {
      const { rows } = await db.query<GapResolutionRow>(
        `SELECT d.title AS question, d.id AS document_id, d.title AS document_title, d.created_by AS resolved_by,
                u.name AS resolved_by_name, d.created_at AS resolved_at, '' AS gap_key
           FROM documents d LEFT JOIN users u ON u.id = d.created_by
          WHERE d.source = 'faq' AND d.enabled AND d.status IN ('queued', 'processing', 'ready')`,
      );
      return rows;
    },

    /** Answering a gap again replaces the earlier resolution (and starts its clock anew). */
    async resolve(r: { gapKey: string; question: string; documentId: string; resolvedBy: string }): Promise<void> {
      await db.query(
        `INSERT INTO gap_resolutions (gap_key, question, document_id, resolved_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (gap_key) DO UPDATE
           SET question = EXCLUDED.question, document_id = EXCLUDED.document_id,
               resolved_by = EXCLUDED.resolved_by, resolved_at = now()`,
        [r.gapKey, r.question, r.documentId, r.resolvedBy],
      );
    },

    /** A pending draft of the same reply is returned as it is (proposing twice is one draft). */
    async insertDraft(d: {
      question: string;
      answer: string;
      conversationId: string;
      messageId: number;
      proposedBy: string;
    }): Promise<{ row: FaqDraftRow; created: boolean }> {
      const { rows } = await db.query<FaqDraftRow>(
        `WITH inserted AS (
           INSERT INTO faq_drafts (question, answer, conversation_id, message_id, proposed_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (message_id) WHERE status = 'pending' DO NOTHING
           RETURNING *)
         SELECT ${DRAFT_COLUMNS} FROM inserted d LEFT JOIN users u ON u.id = d.proposed_by`,
        [d.question, d.answer, d.conversationId, d.messageId, d.proposedBy],
      );
      if (rows[0]) return { row: rows[0], created: true };
      const { rows: existing } = await db.query<FaqDraftRow>(
        `SELECT ${DRAFT_COLUMNS} FROM faq_drafts d LEFT JOIN users u ON u.id = d.proposed_by
          WHERE d.message_id = $1 AND d.status = 'pending'`,
        [d.messageId],
      );
      return { row: existing[0]!, created: false };
    },

    async drafts(status: FaqDraftRow['status'], limit: number): Promise<FaqDraftRow[]> {
      const { rows } = await db.query<FaqDraftRow>(
        `SELECT ${DRAFT_COLUMNS} FROM faq_drafts d LEFT JOIN users u ON u.id = d.proposed_by
          WHERE d.status = $1 ORDER BY d.proposed_at DESC LIMIT $2`,
        [status, limit],
      );
      return rows;
    },

    async findDraft(id: string): Promise<FaqDraftRow | null> {
      const { rows } = await db.query<FaqDraftRow>(
        `SELECT ${DRAFT_COLUMNS} FROM faq_drafts d LEFT JOIN users u ON u.id = d.proposed_by WHERE d.id = $1`,
        [id],
      );
      return rows[0] ?? null;
    },

    /** Marks a pending draft reviewed; null when it is gone or someone reviewed it first. */
    async review(id: string, r: { status: 'approved' | 'rejected'; reviewedBy: string }): Promise<FaqDraftRow | null> {
      const { rows } = await db.query<FaqDraftRow>(
        `UPDATE faq_drafts SET status = $2, reviewed_by = $3, reviewed_at = now()
          WHERE id = $1 AND status = 'pending' RETURNING *, NULL::text AS proposed_by_name`,
        [id, r.status, r.reviewedBy],
      );
      return rows[0] ?? null;
    },

    /** Undoes `review` when indexing the approved entry could not even start. */
    async reopenDraft(id: string): Promise<void> {
      await db.query(`UPDATE faq_drafts SET status = 'pending', reviewed_by = NULL, reviewed_at = NULL WHERE id = $1`, [
        id,
      ]);
    },

    async linkDraftDocument(id: string, documentId: string): Promise<void> {
      await db.query(`UPDATE faq_drafts SET document_id = $2 WHERE id = $1`, [id, documentId]);
    },
  };
}
