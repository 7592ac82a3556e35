import type { Queryable } from '../db/database.ts';

export interface FeedbackRow {
  id: string;
  message_id: number;
  user_id: string;
  rating: 1 | -1;
  comment: string;
  created_at: Date;
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
  };
}
