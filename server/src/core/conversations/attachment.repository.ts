import type { Queryable } from '../db/database.ts';
import type { AttachmentRef } from './message.repository.ts';

export interface AttachmentRow {
  id: string;
  conversation_id: string;
  uploader_id: string | null;
  message_id: number | null;
  storage_key: string;
  filename: string;
  mime: string;
  size_bytes: number;
  created_at: Date;
}

export function createAttachmentRepository(db: Queryable) {
  return {
    async insert(a: {
      id: string;
      conversationId: string;
      uploaderId: string;
      storageKey: string;
      filename: string;
      mime: string;
      size: number;
    }) {
      const { rows } = await db.query<AttachmentRow>(
        `INSERT INTO attachments (id, conversation_id, uploader_id, storage_key, filename, mime, size_bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [a.id, a.conversationId, a.uploaderId, a.storageKey, a.filename, a.mime, a.size],
      );
      return rows[0]!;
    },
    async findById(id: string): Promise<AttachmentRow | undefined> {
      const { rows } = await db.query<AttachmentRow>('SELECT * FROM attachments WHERE id = $1', [id]);
      return rows[0];
    },
    /** Binds the uploader's unattached files in this conversation to a message; returns those bound. */
    async attach(
      conversationId: string,
      uploaderId: string,
      ids: string[],
      messageId: number,
    ): Promise<AttachmentRef[]> {
      const { rows } = await db.query<AttachmentRow>(
        `UPDATE attachments SET message_id = $4
          WHERE id = ANY($3::uuid[]) AND conversation_id = $1 AND uploader_id = $2 AND message_id IS NULL
          RETURNING *`,
        [conversationId, uploaderId, ids, messageId],
      );
      return rows.map((r) => ({ id: r.id, filename: r.filename, mime: r.mime, size: Number(r.size_bytes) }));
    },
  };
}
