import type { Queryable } from '../db/database.ts';

/** Directory lookups open to every signed-in user: only names and addresses of active people. */
export function createPeopleRepository(db: Queryable) {
  return {
    async colleagues(selfId: string, search: string | undefined, limit: number) {
      const params: unknown[] = [selfId, limit];
      let filter = '';
      if (search) {
        params.push(`%${search.replace(/[%_\\]/g, '\\$&')}%`);
        filter = `AND (name ILIKE $3 OR email ILIKE $3)`;
      }
      const { rows } = await db.query<{ id: string; name: string; email: string }>(
        `SELECT id, name, email FROM users WHERE NOT disabled AND id <> $1 ${filter} ORDER BY lower(name), id LIMIT $2`,
        params,
      );
      return rows;
    },
    /** Who an agent may transfer to: a name and availability only. */
    async agents() {
      const { rows } = await db.query<{ id: string; name: string; available: boolean }>(
        `SELECT u.id, u.name, u.available
           FROM users u WHERE u.role IN ('agent', 'admin') AND NOT u.disabled ORDER BY lower(u.name), u.id`,
      );
      return rows;
    },
    async agent(id: string) {
      const { rows } = await db.query<{ id: string; name: string; available: boolean }>(
        `SELECT id, name, available FROM users WHERE id = $1`,
        [id],
      );
      return rows[0];
    },
  };
}
