import { appendAudit } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { createCannedReplyRepository, type CannedReplyRow } from './canned-reply.repository.ts';

const isUniqueViolation = (error: unknown) => (error as { code?: string })?.code === '23505';

/** Maps a taken shortcut to a 409 the form can show next to the field. */
async function uniqueShortcut<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict('A canned reply with this shortcut already exists');
    throw error;
  }
}

/**
 * Canned replies: every agent reads the shared ones and writes their own; only admins write shared
 * ones, and those changes are audited (they put words in every agent's mouth). Another agent's
 * personal reply does not exist as far as anyone else can tell (404).
 */
export function createCannedReplyService(deps: { db: Database }) {
  const { db } = deps;

  /** The reply `actor` may change: their own, or a shared one for an admin. */
  async function writable(actor: Actor, id: string): Promise<CannedReplyRow> {
    const row = await createCannedReplyRepository(db).findVisible(id, actor.id);
    if (!row) throw notFound('Canned reply');
    if (row.owner_id === null && actor.role !== 'admin')
      throw new AppError(403, 'forbidden', 'Only admins change shared canned replies');
    return row;
  }

  function audit(tx: Parameters<typeof appendAudit>[0], actor: Actor, ip: string, action: string, row: CannedReplyRow) {
    return appendAudit(tx, {
      action,
      actor: { id: actor.id, email: actor.email },
      target: { type: 'canned_reply', id: row.id },
      ip,
      details: { name: row.shortcut },
    });
  }

  return {
    list(actor: Actor): Promise<CannedReplyRow[]> {
      return createCannedReplyRepository(db).visibleTo(actor.id);
    },

    create(actor: Actor, input: { shortcut: string; body: string; shared: boolean }, ip: string) {
      if (input.shared && actor.role !== 'admin')
        throw new AppError(403, 'forbidden', 'Only admins create shared canned replies');
      return uniqueShortcut(() =>
        db.transaction(async (tx) => {
          const row = await createCannedReplyRepository(tx).insert({
            ownerId: input.shared ? null : actor.id,
            shortcut: input.shortcut,
            body: input.body,
            createdBy: actor.id,
          });
          if (input.shared) await audit(tx, actor, ip, 'canned_reply.created', row);
          return row;
        }),
      );
    },

    async update(
      actor: Actor,
      id: string,
      patch: { shortcut?: string | undefined; body?: string | undefined },
      ip: string,
    ) {
      const before = await writable(actor, id);
      return uniqueShortcut(() =>
        db.transaction(async (tx) => {
          const row = await createCannedReplyRepository(tx).update(id, patch);
          if (!row) throw notFound('Canned reply');
          if (before.owner_id === null) await audit(tx, actor, ip, 'canned_reply.updated', row);
          return row;
        }),
      );
    },

    async remove(actor: Actor, id: string, ip: string): Promise<void> {
      const row = await writable(actor, id);
      await db.transaction(async (tx) => {
        await createCannedReplyRepository(tx).delete(id);
        if (row.owner_id === null) await audit(tx, actor, ip, 'canned_reply.deleted', row);
      });
    },
  };
}

export type CannedReplyService = ReturnType<typeof createCannedReplyService>;
