import type { Queryable } from '../db/database.ts';
import { creationPositionSql, type Positioned } from '../pagination/creation-position.sql.ts';
import type { CreationKey } from '../pagination/cursor.ts';
import { collectionReadableSql, proposedReadersSql } from '../policy/read-rules.sql.ts';

/** Who reads a collection: everyone, or members of its groups (none left: admins only). */
export type CollectionReaders = 'everyone' | 'groups';

export interface CollectionRow {
  id: string;
  name: string;
  description: string;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  readers: CollectionReaders;
  groups: { id: string; name: string }[];
  document_count: number;
}

// `extra`: more columns, e.g. a listed row's position.
const select = (extra = '') => `
  SELECT c.*,${extra}
    COALESCE((SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name)
                FROM collection_groups cg JOIN groups g ON g.id = cg.group_id WHERE cg.collection_id = c.id), '[]') AS groups,
    (SELECT count(*)::int FROM documents d WHERE d.collection_id = c.id) AS document_count
  FROM collections c`;
const SELECT = select();

export function createCollectionRepository(db: Queryable) {
  return {
    async insert(input: {
      name: string;
      description: string;
      readers: CollectionReaders;
      createdBy: string | null;
    }): Promise<string> {
      const { rows } = await db.query<{ id: string }>(
        'INSERT INTO collections (name, description, readers, created_by) VALUES ($1, $2, $3, $4) RETURNING id',
        [input.name, input.description, input.readers, input.createdBy],
      );
      return rows[0]!.id;
    },
    async findById(id: string): Promise<CollectionRow | undefined> {
      const { rows } = await db.query<CollectionRow>(`${SELECT} WHERE c.id = $1`, [id]);
      return rows[0];
    },
    /** Collections the user may read, newest first, after the row `after` names. */
    async listReadable(
      userId: string,
      page: { after?: CreationKey | undefined; limit: number },
    ): Promise<(CollectionRow & Positioned)[]> {
      const params: unknown[] = [userId];
      let where = collectionReadableSql('c.id', '$1');
      if (page.after) {
        params.push(page.after.at, page.after.id);
        where += ` AND (c.created_at, c.id) < ($2::timestamptz, $3::uuid)`;
      }
      params.push(page.limit);
      const { rows } = await db.query<CollectionRow & Positioned>(
        `${select(` ${creationPositionSql('c')},`)} WHERE ${where} ORDER BY c.created_at DESC, c.id DESC LIMIT $${params.length}`,
        params,
      );
      return rows;
    },
    async mayRead(userId: string, collectionId: string): Promise<boolean> {
      const { rows } = await db.query(
        `SELECT 1 FROM collections c WHERE c.id = $1 AND ${collectionReadableSql('c.id', '$2')}`,
        [collectionId, userId],
      );
      return rows.length > 0;
    },
    /**
     * How many people a change of readers would let in (`gain`) and shut out (`lose`), by the read
     * rule itself: active accounts only (a disabled one reads nothing), admins read either way.
     */
    async readerChange(id: string, next: { readers: CollectionReaders; groups: string[] }) {
      const { rows } = await db.query<{ gain: number; lose: number }>(
        `SELECT count(*) FILTER (WHERE reads_after AND NOT reads_before)::int AS gain,
                count(*) FILTER (WHERE reads_before AND NOT reads_after)::int AS lose
           FROM (SELECT ${collectionReadableSql('c.id', 'u.id')} AS reads_before,
                        ${proposedReadersSql({ open: `$2::text = 'everyone'`, groups: '$3::uuid[]' }, 'u.id')} AS reads_after
                   FROM users u CROSS JOIN collections c WHERE c.id = $1 AND NOT u.disabled) r`,
        [id, next.readers, next.groups],
      );
      return rows[0]!;
    },
    async update(
      id: string,
      patch: { name?: string | undefined; description?: string | undefined; readers?: CollectionReaders | undefined },
    ): Promise<void> {
      await db.query(
        `UPDATE collections SET name = COALESCE($2, name), description = COALESCE($3, description),
           readers = COALESCE($4, readers), updated_at = now() WHERE id = $1`,
        [id, patch.name ?? null, patch.description ?? null, patch.readers ?? null],
      );
    },
    async setGroups(id: string, groupIds: string[]): Promise<void> {
      await db.query('DELETE FROM collection_groups WHERE collection_id = $1', [id]);
      if (groupIds.length) {
        await db.query(
          'INSERT INTO collection_groups (collection_id, group_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING',
          [id, groupIds],
        );
      }
    },
    /** Deletes the collection with its documents and chunks (cascade); returns the blobs to remove. */
    async delete(id: string): Promise<{ deleted: boolean; storageKeys: string[] }> {
      const keys = await db.query<{ storage_key: string }>(
        'SELECT storage_key FROM documents WHERE collection_id = $1 AND storage_key IS NOT NULL',
        [id],
      );
      const { rowCount } = await db.query('DELETE FROM collections WHERE id = $1', [id]);
      return { deleted: rowCount > 0, storageKeys: keys.rows.map((r) => r.storage_key) };
    },
    async existingGroups(ids: string[]): Promise<string[]> {
      if (!ids.length) return [];
      const { rows } = await db.query<{ id: string }>('SELECT id FROM groups WHERE id = ANY($1::uuid[])', [ids]);
      return rows.map((r) => r.id);
    },
  };
}

export type CollectionRepository = ReturnType<typeof createCollectionRepository>;
