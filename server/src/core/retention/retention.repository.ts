import type { Queryable } from '../db/database.ts';

/** The deletes retention performs, in bounded batches so no single transaction grows without limit. */
export function createRetentionRepository(db: Queryable) {
  return {
    /** Deletes up to `limit` messages created before `cutoff` with their attachments' rows; returns the attachments' storage keys. */
    async deleteMessagesBefore(cutoff: Date, limit: number): Promise<{ messages: number; storageKeys: string[] }> {
      const { rows: batch } = await db.query<{ id: number }>(
        'SELECT id FROM messages WHERE created_at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED',
        [cutoff, limit],
      );
      if (!batch.length) return { messages: 0, storageKeys: [] };
      const ids = batch.map((r) => r.id);
      const files = await db.query<{ storage_key: string }>(
        'DELETE FROM attachments WHERE message_id = ANY($1::bigint[]) RETURNING storage_key',
        [ids],
      );
      const deleted = await db.query('DELETE FROM messages WHERE id = ANY($1::bigint[])', [ids]);
      return { messages: deleted.rowCount, storageKeys: files.rows.map((r) => r.storage_key) };
    },

    /**
     * Conversations whose last message is older than `cutoff`, that no longer hold any message and
     * are not waiting for or with an agent, go too (members, events and attachments cascade).
     */
    async deleteEmptyConversationsBefore(
      cutoff: Date,
      limit: number,
    ): Promise<{ conversations: number; storageKeys: string[] }> {
      const { rows: batch } = await db.query<{ id: string }>(
        `SELECT c.id FROM conversations c
          WHERE c.last_message_at < $1 AND (c.status IS NULL OR c.status IN ('bot', 'resolved'))
            AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
          ORDER BY c.last_message_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [cutoff, limit],
      );
      if (!batch.length) return { conversations: 0, storageKeys: [] };
      const ids = batch.map((r) => r.id);
      const files = await db.query<{ storage_key: string }>(
        'DELETE FROM attachments WHERE conversation_id = ANY($1::uuid[]) RETURNING storage_key',
        [ids],
      );
      const deleted = await db.query('DELETE FROM conversations WHERE id = ANY($1::uuid[])', [ids]);
      return { conversations: deleted.rowCount, storageKeys: files.rows.map((r) => r.storage_key) };
    },

    /** Deletes up to `limit` attachment rows created before `cutoff`; returns their storage keys. */
    async deleteAttachmentsBefore(cutoff: Date, limit: number): Promise<string[]> {
      const { rows } = await db.query<{ storage_key: string }>(
        `DELETE FROM attachments WHERE id IN (
           SELECT id FROM attachments WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
         ) RETURNING storage_key`,
        [cutoff, limit],
      );
      return rows.map((r) => r.storage_key);
    },
  };
}
