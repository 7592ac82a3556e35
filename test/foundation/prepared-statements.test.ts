import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepared } from '../../server/src/core/db/database.ts';
import { backends, createTestDatabase, type Backend, type TestDatabase } from '../support/databases.ts';

// A statement of its own, so no other test's plan cache is involved.
const BY_ID = prepared('SELECT * FROM prepared_probe WHERE id = $1');

describe.each(backends)('prepared statements on %s', (backend: Backend) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(backend, { empty: true });
    await t.db.exec(
      `CREATE TABLE prepared_probe (id int PRIMARY KEY, name text); INSERT INTO prepared_probe VALUES (1, 'one');`,
    );
  });
  afterAll(() => t?.dispose());

  it('keep answering after a newer server adds a column under their plan (a rolling upgrade)', async () => {
    expect((await t.db.query(BY_ID, [1])).rows).toEqual([{ id: 1, name: 'one' }]);
    await t.db.transaction(async (tx) => expect((await tx.query(BY_ID, [1])).rows).toHaveLength(1));
    await t.db.exec(`ALTER TABLE prepared_probe ADD COLUMN note text DEFAULT 'new'`);
    // Inside a transaction the first attempt may fail (the transaction is aborted by then) …
    await t.db.transaction((tx) => tx.query(BY_ID, [1])).catch(() => undefined);
    // … and from then on the statement is run unprepared, in and outside transactions.
    expect((await t.db.query(BY_ID, [1])).rows).toEqual([{ id: 1, name: 'one', note: 'new' }]);
    const inTx = await t.db.transaction((tx) => tx.query(BY_ID, [1]));
    expect(inTx.rows).toEqual([{ id: 1, name: 'one', note: 'new' }]);
  });
});
