import type { Queryable } from '../db/database.ts';

export interface CustomerRow {
  id: string;
  name: string;
  email: string;
}

export interface EarlierConversationRow {
  id: string;
  kind: 'bot' | 'support';
  bot_id: string | null;
  title: string;
  status: 'bot' | 'queued' | 'assigned' | 'resolved';
  last_message_at: Date;
  /** Whether the agent asking is a member (a member reads it whatever its state). */
  viewer_is_member: boolean;
}

/** What an agent sees of the employee a conversation is for. */
export function createCustomerCardRepository(db: Queryable) {
  return {
    /** The conversation's owner: the employee who started it. */
    async customerOf(conversationId: string): Promise<CustomerRow | undefined> {
      const { rows } = await db.query<CustomerRow>(
        `SELECT u.id, u.name, u.email FROM conversation_members m JOIN users u ON u.id = m.user_id
          WHERE m.conversation_id = $1 AND m.role = 'owner'
          ORDER BY m.joined_at LIMIT 1`,
        [conversationId],
      );
      return rows[0];
    },
    async groupsOf(userId: string): Promise<{ id: string; name: string }[]> {
      const { rows } = await db.query<{ id: string; name: string }>(
        `SELECT g.id, g.name FROM user_groups ug JOIN groups g ON g.id = ug.group_id
          WHERE ug.user_id = $1 ORDER BY lower(g.name), g.id`,
        [userId],
      );
      return rows;
    },
    /** The customer's other bot and support conversations, newest first. */
    async earlierConversations(userId: string, exceptId: string, viewerId: string, limit: number) {
      const { rows } = await db.query<EarlierConversationRow>(
        `SELECT c.id, c.kind, c.bot_id, c.title, c.status, c.last_message_at,
                EXISTS (SELECT 1 FROM conversation_members v WHERE v.conversation_id = c.id AND v.user_id = $3)
                  AS viewer_is_member
           FROM conversations c JOIN conversation_members m ON m.conversation_id = c.id
          WHERE m.user_id = $1 AND m.role = 'owner' AND c.id <> $2 AND c.kind IN ('bot', 'support')
          ORDER BY c.last_message_at DESC, c.id LIMIT $4`,
        [userId, exceptId, viewerId, limit],
      );
      return rows;
    },
  };
}
