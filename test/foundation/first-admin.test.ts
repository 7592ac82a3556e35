import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../server/src/core/db/database.ts';
import { createApiTokenRepository } from '../../server/src/core/auth/api-token.repository.ts';
import { createSessionRepository } from '../../server/src/core/auth/session.repository.ts';
import { verifyPassword } from '../../server/src/core/crypto/password.ts';
import { ensureFirstAdmin } from '../../server/src/core/users/first-admin.ts';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.ts';

async function admins(db: Database) {
  const { rows } = await db.query<{ email: string; password_hash: string; disabled: boolean }>(
    `SELECT email, password_hash, disabled FROM users WHERE role = 'admin'`,
  );
  return rows;
}

describe.each(backends)('first admin on %s', (backend) => {
  let testDb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    testDb = await createTestDatabase(backend);
    db = testDb.db;
  });
  afterAll(() => testDb?.dispose());
  beforeEach(async () => {
    await db.query('DELETE FROM users');
  });

  it('creates one admin with a strong generated password that signs in, and only once', async () => {
    const result = await ensureFirstAdmin(db, { email: 'admin@example.test' });
    expect(result.created).toBe(true);
    const generated = result.created ? result.generatedPassword : undefined;
    expect(generated).toBeDefined();
    expect(generated!.length).toBeGreaterThanOrEqual(24);

    const stored = await admins(db);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.email).toBe('admin@example.test');
    expect(stored[0]!.password_hash).not.toContain(generated!);
    expect(await verifyPassword(stored[0]!.password_hash, generated!)).toBe(true);
    expect(await verifyPassword(stored[0]!.password_hash, `${generated!}x`)).toBe(false);

    expect(await ensureFirstAdmin(db, { email: 'admin@example.test' })).toEqual({ created: false });
    expect(await ensureFirstAdmin(db, { email: 'someone-else@example.test' })).toEqual({ created: false });
    expect(await admins(db)).toHaveLength(1);
  });

  it('generates a different password on every fresh install', async () => {
    const first = await ensureFirstAdmin(db, { email: 'admin@example.test' });
    await db.query('DELETE FROM users');
    const second = await ensureFirstAdmin(db, { email: 'admin@example.test' });
    const pw = (r: typeof first) => (r.created ? r.generatedPassword : undefined);
    expect(pw(first)).toBeDefined();
    expect(pw(second)).toBeDefined();
    expect(pw(first)).not.toBe(pw(second));
  });

  it('processes starting together create exactly one admin', async () => {
    // Several at once, so their transactions overlap (the password hashes finish together).
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => ensureFirstAdmin(db, { email: i % 2 ? 'admin@example.test' : 'root@example.test' })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await admins(db)).toHaveLength(1);
  });

  it('uses ADMIN_PASSWORD when given and does not echo it back', async () => {
    const password = 'correct horse battery staple';
    const result = await ensureFirstAdmin(db, { email: 'ops@example.test', password });
    expect(result).toEqual({ created: true, email: 'ops@example.test' });
    const stored = await admins(db);
    expect(stored).toHaveLength(1);
    expect(await verifyPassword(stored[0]!.password_hash, password)).toBe(true);
  });

  it('promoting an existing account replaces its password and ends its sessions and tokens', async () => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO users (email, name, role, disabled) VALUES ('ops@example.test', 'Ops', 'employee', true) RETURNING id`,
    );
    const userId = rows[0]!.id;
    await createSessionRepository(db).insert({
      userId,
      tokenHash: 'old-session-hash',
      ip: null,
      userAgent: null,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    await createApiTokenRepository(db).insert({
      userId,
      name: 'old',
      tokenHash: 'old-token-hash',
      prefix: 'enc_old',
      scopes: ['api'],
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    expect(await ensureFirstAdmin(db, { email: 'ops@example.test', password: 'correct horse battery staple' })).toEqual(
      {
        created: true,
        email: 'ops@example.test',
      },
    );
    expect(await admins(db)).toMatchObject([{ email: 'ops@example.test', disabled: false }]);
    expect(await createSessionRepository(db).listLive(userId)).toEqual([]);
    expect(await createApiTokenRepository(db).findLiveByHash('old-token-hash')).toBeUndefined();
  });
});
