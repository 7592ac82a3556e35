import type { Queryable } from '../db/database.ts';

export interface GroupRow {
  id: string;
  name: string;
  description: string;
  created_at: Date;
  member_count: number;
}

/** What the group grants access to: deleting it would take that access from its members. */
export interface GroupDependents {
  collections: { id: string; name: string }[];
  documents: { id: string; title: string; collectionId: string }[];
  /** Bots answering from those collections: offered to fewer people once the group is gone. */
  bots: { id: string; name: string }[];
}

const SELECT = `SELECT g.*, (SELECT count(*)::int FROM user_groups ug WHERE ug.group_id = g.id) AS member_count FROM groups g`;

export function createGroupRepository(db: Queryable) {
  return {
    async insert(group: { name: string; description: string }): Promise<GroupRow> {
      const { rows } = await db.query<{ id: string }>(
        'INSERT INTO groups (name, description) VALUES ($1, $2) RETURNING id',
        [group.name, group.description],
      );
      return (await this.findById(rows[0]!.id))!;
    },
    async findById(id: string): Promise<GroupRow | undefined> {
      const { rows } = await db.query<GroupRow>(`${SELECT} WHERE g.id = $1`, [id]);
      return rows[0];
    },
    async findByNames(names: string[]): Promise<GroupRow[]> {
      const { rows } = await db.query<GroupRow>(`${SELECT} WHERE lower(g.name) = ANY($1::text[])`, [
        names.map((n) => n.toLowerCase()),
      ]);
      return rows;
    },
    async existing(ids: string[]): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM groups WHERE id = ANY($1::uuid[])', [ids]);
      return rows.map((r) => r.id);
    },
    async list(filter: { query?: string; after?: string; limit: number }): Promise<GroupRow[]> {
      const params: unknown[] = [];
      const where: string[] = [];
      if (filter.query) {
        params.push(`%${filter.query.replace(/[%_\\]/g, '\\$&')}%`);
        where.push(`g.name ILIKE $${params.length}`);
      }
      if (filter.after) {
        params.push(filter.after);
        where.push(`lower(g.name) > lower($${params.length})`);
      }
      params.push(filter.limit);
      const { rows } = await db.query<GroupRow>(
        `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY lower(g.name) LIMIT $${params.length}`,
        params,
      );
      return rows;
    },
    async update(id: string, patch: { name?: string; description?: string }): Promise<GroupRow | undefined> {
      await db.query(
        'UPDATE groups SET name = COALESCE($2, name), description = COALESCE($3, description) WHERE id = $1',
        [id, patch.name ?? null, patch.description ?? null],
      );
      return this.findById(id);
    },
    async dependents(id: string): Promise<GroupDependents> {
      const collections = await db.query<{ id: string; name: string }>(
        `SELECT c.id, c.name FROM collection_groups cg JOIN collections c ON c.id = cg.collection_id
            WHERE cg.group_id = $1 ORDER BY lower(c.name), c.id`,
        [id],
      );
      const documents = await db.query<{ id: string; title: string; collectionId: string }>(
        `SELECT d.id, d.title, d.collection_id AS "collectionId" FROM document_groups dg JOIN documents d ON d.id = dg.document_id
            WHERE dg.group_id = $1 ORDER BY lower(d.title), d.id`,
        [id],
      );
      const bots = await db.query<{ id: string; name: string }>(
        `SELECT b.id, b.name FROM bots b
            WHERE b.collection_ids && ARRAY(SELECT cg.collection_id FROM collection_groups cg WHERE cg.group_id = $1)
            ORDER BY lower(b.name), b.id`,
        [id],
      );
      return { collections: collections.rows, documents: documents.rows, bots: bots.rows };
    },
    async delete(id: string): Promise<boolean> {
      const { rowCount } = await db.query('DELETE FROM groups WHERE id = $1', [id]);
      return rowCount > 0;
    },
    async members(groupId: string): Promise<{ id: string; email: string; name: string }[]> {
      const { rows } = await db.query<{ id: string; email: string; name: string }>(
        `SELECT u.id, u.email, u.name FROM user_groups ug JOIN users u ON u.id = ug.user_id WHERE ug.group_id = $1 ORDER BY lower(u.email)`,
        [groupId],
      );
      return rows;
    },
    async addMember(groupId: string, userId: string): Promise<void> {
      await db.query(
        `INSERT INTO user_groups (user_id, group_id, source) VALUES ($1, $2, 'manual') ON CONFLICT DO NOTHING`,
        [userId, groupId],
      );
    },
    async removeMember(groupId: string, userId: string): Promise<boolean> {
      const { rowCount } = await db.query('DELETE FROM user_groups WHERE user_id = $1 AND group_id = $2', [
        userId,
        groupId,
      ]);
      return rowCount > 0;
    },
  };
}
