import type { Queryable } from '../db/database.ts';

export interface FeedbackRow {
  id: string;
  message_id: number;
  user_id: string;
  rating: 1 | -1;
  comment: string;
  created_at: Date;
}

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

export function createFeedbackRepository(db: Queryable) {
  return {
    /** One rating per user and message; rating again replaces it. */
    async upsert(f: { messageId: number; userId: string; rating: 1 | -1; comment: string }): Promise<FeedbackRow> {
      const { rows } = await db.query<FeedbackRow>(
        `INSERT INTO feedback (message_id, user_id, rating, comment) VALUES ($1, $2, $3, $4)
         ON CONFLICT (message_id, user_id) DO UPDATE SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, created_at = now()
         RETURNING *`,
        [f.messageId, f.userId, f.rating, f.comment],
      );
      return rows[0]!;
    },
    async gaps(since: Date, limit: number): Promise<GapRow[]> {
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
  };
}
