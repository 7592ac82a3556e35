import { createHash } from 'node:crypto';

/**
 * One interface over the two database backends (Postgres through `pg`, PGlite in-process).
 * Repositories receive a `Queryable` and write plain, parameterised Postgres SQL; both backends
 * run the same statements.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** One parameterised statement ($1, $2 …). */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const preparedNames = new Map<string, string>();

/**
 * Marks a statement on every request's hot path (resolving a credential, posting a message): on
 * Postgres each pooled connection parses and plans it once and then only binds values (about a
 * quarter of a millisecond a statement here). Only for lookups by key, whose best plan does not
 * depend on the values — a prepared statement soon runs on a generic plan. PGlite ignores it.
 */
export function prepared(sql: string): string {
  if (!preparedNames.has(sql))
    preparedNames.set(sql, `enclave_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`);
  return sql;
}

export function forgetPrepared(sql: string): void {
  preparedNames.delete(sql);
}

/** The statement name of a `prepared` statement. */
export function preparedName(sql: string): string | undefined {
  return preparedNames.get(sql);
}

/** Whether the database answers (the readiness probe). */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
