import { appendAudit } from '../audit/audit.service.ts';
import type { Database, Queryable } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { CreationKey } from '../pagination/cursor.ts';
import type { Actor } from '../policy/actor.ts';
import { resolveReaders } from '../policy/readers.ts';
import type { BlobStorage } from '../storage/blob-storage.ts';
import { createCollectionRepository, type CollectionReaders, type CollectionRow } from './collection.repository.ts';

export interface ClientInfo {
  ip: string;
}

export async function assertGroupsExist(tx: Queryable, ids: string[]) {
  const found = await createCollectionRepository(tx).existingGroups(ids);
  const missing = ids.filter((id) => !found.includes(id));
  if (missing.length) throw new AppError(400, 'unknown_group', `Unknown group id(s): ${missing.join(', ')}`);
}

/**
 * Collections and who may read them (their groups): created, renamed, re-permissioned and deleted
 * by admins, audited in the same transaction; listed and shown to those who may read them.
 */
export function createCollectionService(deps: { db: Database; storage: Pick<BlobStorage, 'delete'> }) {
  const { db, storage } = deps;

  async function readableCollection(actor: Actor, id: string): Promise<CollectionRow> {
    const repo = createCollectionRepository(db);
    const collection = await repo.findById(id);
    // An unreadable collection is reported as missing: its existence is not disclosed.
    if (!collection || !(await repo.mayRead(actor.id, id))) throw notFound('Collection');
    return collection;
  }

  /** `readableCollection` without reading the collection: adding and listing documents need only the answer. */
  async function assertReadable(actor: Actor, id: string): Promise<void> {
    // A missing collection is not readable either, and gets the same answer.
    if (!(await createCollectionRepository(db).mayRead(actor.id, id))) throw notFound('Collection');
  }

  return {
    assertReadable,
    async createCollection(
      actor: Actor,
      input: {
        name: string;
        description?: string | undefined;
        readers?: CollectionReaders | undefined;
        groups?: string[] | undefined;
      },
      client: ClientInfo,
    ) {
      // A caller that sends no readers and no groups (or an empty list) creates a collection for everyone, as always.
      const { readers, groups = [] } = resolveReaders(
        'everyone',
        'everyone',
        input.groups?.length ? input : { ...input, groups: undefined },
      );
      const id = await db.transaction(async (tx) => {
        const repo = createCollectionRepository(tx);
        if (groups.length) await assertGroupsExist(tx, groups);
        const id = await repo.insert({
          name: input.name,
          description: input.description ?? '',
          readers,
          createdBy: actor.id,
        });
        if (groups.length) await repo.setGroups(id, groups);
        await appendAudit(tx, {
          action: 'collection.created',
          actor,
          target: { type: 'collection', id },
          ip: client.ip,
          details: { name: input.name, readers, groups },
        });
        return id;
      });
      return (await createCollectionRepository(db).findById(id))!;
    },

    getCollection: readableCollection,

    async listCollections(actor: Actor, page: { after?: CreationKey | undefined; limit: number }) {
      return createCollectionRepository(db).listReadable(actor.id, page);
    },

    async updateCollection(
      actor: Actor,
      id: string,
      changes: {
        name?: string | undefined;
        description?: string | undefined;
        readers?: CollectionReaders | undefined;
        groups?: string[] | undefined;
      },
      client: ClientInfo,
    ) {
      await db.transaction(async (tx) => {
        const repo = createCollectionRepository(tx);
        const before = await repo.findById(id);
        if (!before) throw notFound('Collection');
        const { readers, groups } = resolveReaders('everyone', before.readers, changes);
        if (groups?.length) await assertGroupsExist(tx, groups);
        await repo.update(id, { name: changes.name, description: changes.description, readers });
        if (changes.name !== undefined || changes.description !== undefined) {
          await appendAudit(tx, {
            action: 'collection.updated',
            actor,
            target: { type: 'collection', id },
            ip: client.ip,
            details: {
              from: { name: before.name, description: before.description },
              to: { name: changes.name, description: changes.description },
            },
          });
        }
        if (groups || readers !== before.readers) {
          if (groups) await repo.setGroups(id, groups);
          await appendAudit(tx, {
            action: 'collection.permissions_changed',
            actor,
            target: { type: 'collection', id },
            ip: client.ip,
            details: {
              from: { readers: before.readers, groups: before.groups.map((g) => g.id) },
              to: { readers, groups: groups ?? before.groups.map((g) => g.id) },
            },
          });
        }
      });
      return (await createCollectionRepository(db).findById(id))!;
    },

    /** What `updateCollection` with these readers would do to who reads: people let in and shut out. */
    async previewReaders(
      id: string,
      changes: { readers?: CollectionReaders | undefined; groups?: string[] | undefined },
    ): Promise<{ gain: number; lose: number }> {
      const repo = createCollectionRepository(db);
      const before = await repo.findById(id);
      if (!before) throw notFound('Collection');
      const { readers, groups } = resolveReaders('everyone', before.readers, changes);
      // Refused as the change itself would be: the admin learns it before confirming, not after.
      if (groups?.length) await assertGroupsExist(db, groups);
      return repo.readerChange(id, { readers, groups: groups ?? before.groups.map((g) => g.id) });
    },

    async deleteCollection(actor: Actor, id: string, client: ClientInfo) {
      const keys = await db.transaction(async (tx) => {
        const repo = createCollectionRepository(tx);
        const before = await repo.findById(id);
        if (!before) throw notFound('Collection');
        const { storageKeys } = await repo.delete(id);
        await appendAudit(tx, {
          action: 'collection.deleted',
          actor,
          target: { type: 'collection', id },
          ip: client.ip,
          details: { name: before.name, documents: before.document_count },
        });
        return storageKeys;
      });
      // After the commit: a failed file removal leaves an orphan file, never a dangling row.
      await Promise.all(keys.map((k) => storage.delete(k).catch(() => {})));
    },
  };
}

export type CollectionService = ReturnType<typeof createCollectionService>;
