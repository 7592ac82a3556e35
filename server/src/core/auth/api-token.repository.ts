import type { Queryable } from '../db/database.ts';
import type { TokenScope } from '../policy/actor.ts';

export interface ApiTokenRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, user_id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at';

export function createApiTokenRepository(db: Queryable) {
  return {
    async insert(token: {
      userId: string;
      name: string;
      tokenHash: string;
      prefix: string;
      scopes: readonly TokenScope[];
      expiresAt: Date;
    }) {
      const { rows } = await db.query<ApiTokenRow>(
        `INSERT INTO api_tokens (user_id, name, token_hash, prefix, scopes, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [token.userId, token.name, token.tokenHash, token.prefix, token.scopes, token.expiresAt],
      );
      return rows[0]!;
    },
    async findLiveByHash(tokenHash: string): Promise<ApiTokenRow | undefined> {
      const { rows } = await db.query<ApiTokenRow>(
        `SELECT ${COLUMNS} FROM api_tokens
          WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
        [tokenHash],
      );
      return rows[0];
    },
    async touch(id: string): Promise<void> {
      await db.query(
        `UPDATE api_tokens SET last_used_at = now()
          WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
        [id],
      );
    },
    async listLive(userId: string): Promise<ApiTokenRow[]> {
      const { rows } = await db.query<ApiTokenRow>(
        `SELECT ${COLUMNS} FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC`,
        [userId],
      );
      return rows;
    },
    /** Revokes every live token of a user (disabled, password reset, role change); returns their ids. */
    async revokeAll(userId: string): Promise<string[]> {
      const { rows } = await db.query<{ id: string }>(
        'UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id',
        [userId],
      );
      return rows.map((r) => r.id);
    },
    async revoke(userId: string, id: string): Promise<ApiTokenRow | undefined> {
      const { rows } = await db.query<ApiTokenRow>(
        `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
        [id, userId],
      );
      return rows[0];
    },
  };
}
