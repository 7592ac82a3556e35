import type { Queryable } from '../db/database.ts';

export interface GroupRow {
  id: string;
  name: string;
  description: string;
  created_at: Date;
  member_count: number;
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
