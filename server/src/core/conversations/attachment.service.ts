import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Database, Queryable } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { maySeeInternalNotes } from '../policy/policy.ts';
import { BlobTooLargeError, type BlobStorage } from '../storage/blob-storage.ts';
import { createAttachmentRepository } from './attachment.repository.ts';
import { INLINE_MIMES, sniffAttachment, type AttachmentMime } from './attachment-type.ts';
import type { ConversationService } from './conversation.service.ts';
import { createMessageRepository, type AttachmentRef } from './message.repository.ts';

const SNIFF_BYTES = 4096;

async function head(stream: Readable, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= bytes) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** Inside the message's transaction: all named uploads must be the sender's own, unused, in this conversation. */
export async function claimAttachments(
  tx: Queryable,
  conversationId: string,
  uploaderId: string,
  ids: string[],
  messageId: number,
): Promise<AttachmentRef[]> {
  const unique = [...new Set(ids)];
  const refs = await createAttachmentRepository(tx).attach(conversationId, uploaderId, unique, messageId);
  if (refs.length !== unique.length)
    throw new AppError(400, 'invalid_attachment', 'Attach only files you uploaded to this conversation, each once');
  return refs;
}

/**
 * Files attached to messages: stored behind the blob-storage interface, typed from their bytes,
 * size-capped, and served only to people who may read the conversation (and the message).
 */
export function createAttachmentService(deps: {
  db: Database;
  storage: BlobStorage;
  conversations: Pick<ConversationService, 'readable'>;
  maxBytes: number;
}) {
  const { db, storage } = deps;
  return {
    /** Stores an upload for the actor's next message in the conversation; it is bound when that message is sent. */
    async upload(actor: Actor, conversationId: string, file: { stream: Readable; filename: string }) {
      const { members } = await deps.conversations.readable(actor, conversationId);
      // Staff who may read a conversation may write an internal note in it without joining, so they
      // may upload for one; posting decides whether the message (and its files) may be sent.
      if (!members.some((m) => m.user_id === actor.id) && !maySeeInternalNotes(actor))
        throw new AppError(403, 'forbidden', 'Join the conversation before attaching files');
      const id = randomUUID();
      const key = `attachments/${conversationId}/${id}`;
      let size: number;
      try {
        size = (await storage.put(key, file.stream, { maxBytes: deps.maxBytes })).size;
      } catch (error) {
        if (error instanceof BlobTooLargeError) {
          throw new AppError(
            413,
            'payload_too_large',
            `Attachments can be at most ${Math.round(deps.maxBytes / 1048576)} MB`,
          );
        }
        throw error;
      }
      const stored = await storage.get(key);
      const mime = stored ? sniffAttachment(await head(stored, SNIFF_BYTES)) : undefined;
      if (!mime || size === 0) {
        await storage.delete(key);
        throw new AppError(
          415,
          'unsupported_file_type',
          'Attach images (PNG, JPEG, GIF, WebP), PDF, Word, Excel, PowerPoint or plain text files',
        );
      }
      const filename = file.filename.replace(/[\u0000-\u001f\u007f/\\]/g, '_').slice(0, 255) || 'file';
      return createAttachmentRepository(db).insert({
        id,
        conversationId,
        uploaderId: actor.id,
        storageKey: key,
        filename,
        mime,
        size,
      });
    },

    async open(actor: Actor, id: string) {
      const row = await createAttachmentRepository(db).findById(id);
      if (!row) throw notFound('Attachment');
      await deps.conversations.readable(actor, row.conversation_id);
      const message = row.message_id ? await createMessageRepository(db).findById(row.message_id) : undefined;
      // Unsent uploads belong to their uploader; files on internal notes to the support team; deleted messages to nobody.
      if (
        !message
          ? row.uploader_id !== actor.id
          : (message.internal && !maySeeInternalNotes(actor)) || message.deleted_at
      ) {
        throw notFound('Attachment');
      }
      const stream = await storage.get(row.storage_key);
      if (!stream) throw notFound('Attachment');
      return {
        stream,
        filename: row.filename,
        mime: row.mime,
        size: Number(row.size_bytes),
        inline: INLINE_MIMES.has(row.mime as AttachmentMime),
      };
    },
  };
}

export type AttachmentService = ReturnType<typeof createAttachmentService>;
