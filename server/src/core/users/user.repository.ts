import { prepared, type Queryable } from '../db/database.ts';

export const ROLES = ['employee', 'agent', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string | null;
  role: Role;
  disabled: boolean;
  external_id: string | null;
  skills: string[];
  capacity: number;
  created_at: Date;
  updated_at: Date;
  last_login_at: Date | null;
}

/** A user with their groups, as most reads need it. */
export interface UserWithGroups extends UserRow {
  groups: { id: string; name: string }[];
}

/** Users (as `u`) with their groups, and `extraColumns` from whatever the caller joins. */
const withGroups = (extraColumns = '') => `
  SELECT u.*${extraColumns}, COALESCE(
    (SELECT json_agg(json_build_object('id', g.id, 'name', g.name) ORDER BY g.name)
       FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id), '[]') AS groups
  FROM users u`;

const WITH_GROUPS = withGroups();

/** Every signed-in request the actor cache has not seen (see auth/actor-cache.ts). */
const BY_SESSION_HASH =
  prepared(`${withGroups(', s.id AS session_id, s.last_used_at AS session_last_used_at, s.expires_at AS session_expires_at')}
  JOIN sessions s ON s.user_id = u.id
  WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()`);

export interface UserPatch {
  name?: string;
  role?: Role;
  disabled?: boolean;
  passwordHash?: string;
  skills?: string[];
  capacity?: number;
  email?: string;
}

// Every change to who is an active admin takes this lock (first-admin creation, demoting, disabling),
// so two admins removing each other at the same moment cannot both succeed and leave none.
const ADMIN_SET_LOCK_KEY = 4_242_003;

export function createUserRepository(db: Queryable) {
  return {
    /** Serialises changes to the set of active admins until the calling transaction ends. */
    async lockAdminSet(): Promise<void> {
      await db.query('SELECT pg_advisory_xact_lock($1)', [ADMIN_SET_LOCK_KEY]);
    },
    async insert(user: {
      email: string;
      name: string;
      passwordHash: string | null;
      role: Role;
      externalId?: string | null;
      skills?: string[];
      capacity?: number;
    }): Promise<UserRow> {
      const { rows } = await db.query<UserRow>(
        `INSERT INTO users (email, name, password_hash, role, external_id, skills, capacity)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [
          user.email,
          user.name,
          user.passwordHash,
          user.role,
          user.externalId ?? null,
          user.skills ?? [],
          user.capacity ?? 5,
        ],
      );
      return rows[0]!;
    },
    async findById(id: string): Promise<UserWithGroups | undefined> {
      const { rows } = await db.query<UserWithGroups>(`${WITH_GROUPS} WHERE u.id = $1`, [id]);
      return rows[0];
    },
    /**
     * The user behind a live session (not revoked, not expired) by its token hash, with the
     * session's id and last use: every signed-in request asks, so it is one round trip.
     */
    async findBySessionHash(
      tokenHash: string,
    ): Promise<
      (UserWithGroups & { session_id: string; session_last_used_at: Date; session_expires_at: Date }) | undefined
    > {
      const { rows } = await db.query<
        UserWithGroups & { session_id: string; session_last_used_at: Date; session_expires_at: Date }
      >(BY_SESSION_HASH, [tokenHash]);
      return rows[0];
    },
    async findByEmail(email: string): Promise<UserRow | undefined> {
      const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
      return rows[0];
    },
    async findByExternalId(externalId: string): Promise<UserRow | undefined> {
      const { rows } = await db.query<UserRow>('SELECT * FROM users WHERE external_id = $1', [externalId]);
      return rows[0];
    },
    /** Ordered by email; `after` is the last email of the previous page. */
    async list(filter: { query?: string; role?: Role; after?: string; limit: number }): Promise<UserWithGroups[]> {
      const params: unknown[] = [];
      const where: string[] = [];
      if (filter.query) {
        params.push(`%${filter.query.replace(/[%_\\]/g, '\\$&')}%`);
        where.push(`(u.email ILIKE $${params.length} OR u.name ILIKE $${params.length})`);
      }
      if (filter.role) {
        params.push(filter.role);
        where.push(`u.role = $${params.length}`);
      }
      if (filter.after) {
        params.push(filter.after);
        where.push(`lower(u.email) > lower($${params.length})`);
      }
      params.push(filter.limit);
      const { rows } = await db.query<UserWithGroups>(
        `${WITH_GROUPS} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY lower(u.email) LIMIT $${params.length}`,
        params,
      );
      return rows;
    },
    async update(id: string, patch: UserPatch): Promise<UserRow | undefined> {
      const columns: Record<keyof UserPatch, string> = {
        name: 'name',
        role: 'role',
        disabled: 'disabled',
        passwordHash: 'password_hash',
        skills: 'skills',
        capacity: 'capacity',
        email: 'email',
      };
      const sets: string[] = [];
      const params: unknown[] = [id];
      for (const [key, column] of Object.entries(columns) as [keyof UserPatch, string][]) {
        if (patch[key] === undefined) continue;
        params.push(patch[key]);
        sets.push(`${column} = $${params.length}`);
      }
      if (!sets.length) return (await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id])).rows[0];
      const { rows } = await db.query<UserRow>(
        `UPDATE users SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING *`,
        params,
      );
      return rows[0];
    },
    /** Ties an account found by email to its single sign-on identity. */
    async linkExternalId(id: string, externalId: string): Promise<void> {
      await db.query('UPDATE users SET external_id = $2 WHERE id = $1', [id, externalId]);
    },
    async markLogin(id: string): Promise<void> {
      await db.query('UPDATE users SET last_login_at = now() WHERE id = $1', [id]);
    },
    /** Which of these ids belong to users who are not disabled. */
    async activeIds(ids: string[]): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM users WHERE id = ANY($1::uuid[]) AND NOT disabled',
        [ids],
      );
      return rows.map((r) => r.id);
    },
    async countActiveAdmins(): Promise<number> {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled`,
      );
      return rows[0]?.n ?? 0;
    },
    async groupIds(userId: string): Promise<string[]> {
      const { rows } = await db.query<{ group_id: string }>('SELECT group_id FROM user_groups WHERE user_id = $1', [
        userId,
      ]);
      return rows.map((r) => r.group_id);
    },
    /** Replaces a user's memberships of one source (manual edits, or what SSO last said). */
    async setGroups(userId: string, groupIds: string[], source: 'manual' | 'sso'): Promise<void> {
      await db.query(
        'DELETE FROM user_groups WHERE user_id = $1 AND source = $2 AND NOT (group_id = ANY($3::uuid[]))',
        [userId, source, groupIds],
      );
      await db.query(
        `INSERT INTO user_groups (user_id, group_id, source) SELECT $1, unnest($2::uuid[]), $3 ON CONFLICT DO NOTHING`,
        [userId, groupIds, source],
      );
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
