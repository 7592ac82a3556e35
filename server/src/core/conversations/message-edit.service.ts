import { appendAudit } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { maySeeInternalNotes } from '../policy/policy.ts';
import type { ConversationPublisher } from './conversation-publisher.ts';
import { createMessageRepository, type MessageRepository, type MessageRow } from './message.repository.ts';

/**
 * Editing and deleting messages after they were sent: authors change their own (admins may also
 * delete), every change keeps the previous text as a revision and is audited.
 */
export function createMessageEditService(deps: {
  db: Database;
  publisher: ConversationPublisher;
  /** Throws "not found" unless the actor may read the conversation. */
  readable: (actor: Actor, conversationId: string) => Promise<unknown>;
}) {
  const { db, publisher } = deps;

  async function ownMessage(actor: Actor, messageId: number, adminMay: boolean): Promise<MessageRow> {
    const message = await createMessageRepository(db).findById(messageId);
    if (!message) throw notFound('Message');
    await deps.readable(actor, message.conversation_id);
    if (message.internal && !maySeeInternalNotes(actor)) throw notFound('Message');
    if (message.deleted_at) throw new AppError(409, 'conflict', 'The message was deleted');
    if (message.sender_id !== actor.id && !(adminMay && actor.role === 'admin')) {
      throw new AppError(403, 'forbidden', 'Only the author can change a message');
    }
    return message;
  }

  /** Keeps the previous text, applies the change and audits it in one transaction, then tells the members. */
  async function revise(
    actor: Actor,
    message: MessageRow,
    ip: string,
    action: 'edit' | 'delete',
    apply: (messages: MessageRepository) => Promise<unknown>,
  ): Promise<MessageRow> {
    const updated = await db.transaction(async (tx) => {
      const messages = createMessageRepository(tx);
      await messages.addRevision({ messageId: message.id, editorId: actor.id, action, previousBody: message.body });
      await apply(messages);
      await appendAudit(tx, {
        action: action === 'edit' ? 'message.edited' : 'message.deleted',
        actor,
        target: { type: 'message', id: String(message.id) },
        ip,
        details: { conversationId: message.conversation_id },
      });
      return (await messages.findById(message.id))!;
    });
    await publisher.message('message.updated', updated);
    return updated;
  }

  return {
    /** Authors edit their own messages; every version is kept and audited. */
    async edit(actor: Actor, messageId: number, body: string, ip: string): Promise<MessageRow> {
      const message = await ownMessage(actor, messageId, false);
      return revise(actor, message, ip, 'edit', (messages) => messages.updateBody(messageId, body));
    },

    /** Authors (or admins) delete; the text is kept in the revision history, not shown. */
    async remove(actor: Actor, messageId: number, ip: string): Promise<MessageRow> {
      const message = await ownMessage(actor, messageId, true);
      return revise(actor, message, ip, 'delete', (messages) => messages.softDelete(messageId));
    },
  };
}
