import type { Queryable } from '../db/database.ts';

export interface ConversationRatingRow {
  conversation_id: string;
  user_id: string;
  rating: number;
  comment: string;
  created_at: Date;
  updated_at: Date;
}

/** Satisfaction ratings of conversations (CSAT): one per conversation and user. */
export function createConversationRatingRepository(db: Queryable) {
  return {
    /** Rating again changes the rating and the comment. */
    async upsert(r: { conversationId: string; userId: string; rating: number; comment: string }) {
      const { rows } = await db.query<ConversationRatingRow>(
        `INSERT INTO conversation_ratings (conversation_id, user_id, rating, comment) VALUES ($1, $2, $3, $4)
         ON CONFLICT (conversation_id, user_id)
           DO UPDATE SET rating = EXCLUDED.rating, comment = EXCLUDED.comment, updated_at = now()
         RETURNING *`,
        [r.conversationId, r.userId, r.rating, r.comment],
      );
      return rows[0]!;
    },
    async find(conversationId: string, userId: string): Promise<ConversationRatingRow | undefined> {
      const { rows } = await db.query<ConversationRatingRow>(
        'SELECT * FROM conversation_ratings WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, userId],
      );
      return rows[0];
    },
    /** The average and count of the ratings given or changed since `since`. */
    async summary(since: Date): Promise<{ average: number | null; count: number }> {
      const { rows } = await db.query<{ average: string | number | null; count: number }>(
        `SELECT avg(rating)::float8 AS average, count(*)::int AS count FROM conversation_ratings WHERE updated_at >= $1`,
        [since],
      );
      const row = rows[0];
      return { average: row?.average == null ? null : Number(row.average), count: row?.count ?? 0 };
    },
  };
}
