import pg from 'pg';
import { forgetPrepared, preparedName, type Database, type Queryable, type QueryResult } from './database.ts';

// int8 (bigint ids, counts) as JS numbers: message ids stay well below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

function wrap(client: pg.Pool | pg.PoolClient, inTransaction: boolean): Queryable {
  return {
    async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
      const name = preparedName(sql);
      const values = params as unknown[];
      const result = await client
        .query(name ? { name, text: sql, values } : { text: sql, values })
        .catch((error: { code?: string }) => {
          // A migration by a newer server changed a table under a prepared plan ("cached plan must
          // not change result type", during a rolling upgrade): this process stops preparing the
          // statement; outside a transaction it is run again at once (inside one, the request fails
          // once — the transaction is already aborted — and its retry runs unprepared).
          if (!name || error.code !== '0A000') throw error;
          forgetPrepared(sql);
          if (inTransaction) throw error;
          return client.query({ text: sql, values });
        });
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

export function createPostgresDatabase(connectionString: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, application_name: 'enclave' });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const base = wrap(pool, false);
  return {
    kind: 'postgres',
    ...base,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client, true));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
