import { afterAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../server/src/core/db/migrator.ts';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.ts';

/** Tokens made before scopes existed keep working: migration 010 gives them both scopes. */
describe.each(backends)('personal tokens from before scopes on %s', (backend) => {
  const opened: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.dispose()));
  });

  it('get chat and api; a token written without scopes afterwards is refused', async () => {
    const testDb = await createTestDatabase(backend, { empty: true });
    opened.push(testDb);
    const { db } = testDb;
    const all = await readMigrations();
    await migrate(
      db,
      all.filter((m) => m.version < 10),
    );
    const { rows: users } = await db.query<{ id: string }>(
      `INSERT INTO users (email, name, role) VALUES ('old@example.test', 'Old', 'employee') RETURNING id`,
    );
    await db.query(
      `INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, 'legacy', 'h1', 'enp_legacy')`,
      [users[0]!.id],
    );

    await migrate(db, all);
    const { rows } = await db.query<{ scopes: string[] }>(`SELECT scopes FROM api_tokens WHERE name = 'legacy'`);
    expect(rows[0]!.scopes).toEqual(['chat', 'api']);
    await expect(
      db.query(`INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, 'unscoped', 'h2', 'enp_x')`, [
        users[0]!.id,
      ]),
    ).rejects.toThrow(/scopes/);
    await expect(
      db.query(
        `INSERT INTO api_tokens (user_id, name, token_hash, prefix, scopes) VALUES ($1, 'odd', 'h3', 'enp_y', ARRAY['admin'])`,
        [users[0]!.id],
      ),
    ).rejects.toThrow(/api_tokens_scopes_known/);
  }, 180_000);
});
