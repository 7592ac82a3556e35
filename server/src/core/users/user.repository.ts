import type { Queryable } from '../db/database.ts';

export type Role = 'employee' | 'agent' | 'admin';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  role: Role;
  disabled: boolean;
  created_at: Date;
}

export function createUserRepository(db: Queryable) {
  return {
    async insert(user: { email: string; name: string; passwordHash: string | null; role: Role }): Promise<UserRow> {
      const { rows } = await db.query<UserRow>(
        `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING *`,
        [user.email, user.name, user.passwordHash, user.role],
      );
      return rows[0]!;
    },
    async findByEmail(email: string): Promise<UserRow | undefined> {
      const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
      return rows[0];
    },
    async countActiveAdmins(): Promise<number> {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled`,
      );
      return rows[0]?.n ?? 0;
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
