import type { Queryable } from '../db/database.ts';
import { storedEmbeddingSpace } from '../db/embedding-space.ts';

/**
 * The catalogue reads and bulk statements a logical backup needs. Everything is plain SQL that
 * Postgres and PGlite both run; rows travel as JSON (`row_to_json` out, `json_populate_recordset`
 * in), so every type — vectors, tsvectors, arrays, jsonb, timestamps — goes through its own text
 * form and comes back identical on either backend.
 */

export interface TableInfo {
  name: string;
  /** Tables this one references (foreign keys), excluding itself. */
  dependsOn: string[];
  /** Columns referencing the same table (loaded in a second pass). */
  selfReferences: string[];
  identity: { column: string; sequence: string }[];
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function createBackupRepository(db: Queryable) {
  return {
    /** Makes the calling transaction one consistent, read-only snapshot (its first statement). */
    async snapshot(): Promise<void> {
      await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    },

    /** What the manifest records of the database: applied migrations, server version, embedding space. */
    async describe(): Promise<{
      migrations: { version: number; name: string; checksum: string }[];
      serverVersion: string;
      embeddingSpace: { model: string; dimensions: number } | null;
    }> {
      const { rows: migrations } = await db.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      );
      const { rows: version } = await db.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
      const space = await storedEmbeddingSpace(db);
      return {
        migrations,
        serverVersion: version[0]!.v,
        embeddingSpace: space ? { model: space.model, dimensions: space.dimensions } : null,
      };
    },

    async tables(): Promise<TableInfo[]> {
      const { rows: tables } = await db.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
      );
      const { rows: fks } = await db.query<{ child: string; parent: string; columns: string[] }>(
        `SELECT c.relname AS child, p.relname AS parent,
                array(SELECT a.attname::text FROM unnest(k.conkey) AS key(n) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.n) AS columns
           FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE k.contype = 'f' AND n.nspname = 'public'`,
      );
      const { rows: identities } = await db.query<{ table_name: string; column_name: string; sequence: string }>(
        `SELECT table_name::text, column_name::text, pg_get_serial_sequence(quote_ident(table_name), column_name) AS sequence
           FROM information_schema.columns
          WHERE table_schema = 'public' AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`,
      );
      return tables.map(({ name }) => ({
        name,
        dependsOn: [...new Set(fks.filter((f) => f.child === name && f.parent !== name).map((f) => f.parent))],
        selfReferences: fks.filter((f) => f.child === name && f.parent === name).flatMap((f) => f.columns),
        identity: identities
          .filter((i) => i.table_name === name && i.sequence)
          .map((i) => ({ column: i.column_name, sequence: i.sequence })),
      }));
    },

    async columns(table: string): Promise<string[]> {
      const { rows } = await db.query<{ name: string }>(
        `SELECT attname::text AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
        [ident(table)],
      );
      return rows.map((r) => r.name);
    },

    async count(table: string): Promise<number> {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(table)}`);
      return rows[0]!.n;
    },

    /** Every row as JSON text, in pages, through a cursor (must run inside a transaction). */
    async *rows(table: string, pageSize = 1000): AsyncGenerator<string[]> {
      const cursor = `enclave_backup_${table.replace(/\W/g, '_')}`;
      await db.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS j FROM ${ident(table)} t`);
      try {
        for (;;) {
          const { rows } = await db.query<{ j: string }>(`FETCH ${pageSize} FROM ${cursor}`);
          if (rows.length) yield rows.map((r) => r.j);
          if (rows.length < pageSize) break;
        }
      } finally {
        await db.query(`CLOSE ${cursor}`);
      }
    },

    async sequenceState(sequence: string): Promise<{ lastValue: number; isCalled: boolean }> {
      const { rows } = await db.query<{ last_value: number; is_called: boolean }>(
        `SELECT last_value, is_called FROM ${sequence}`,
      );
      return { lastValue: Number(rows[0]!.last_value), isCalled: rows[0]!.is_called };
    },

    async setSequence(sequence: string, lastValue: number, isCalled: boolean): Promise<void> {
      await db.query('SELECT setval($1::regclass, $2, $3)', [sequence, lastValue, isCalled]);
    },

    /** Inserts JSON rows (their self-referencing columns nulled, for a second pass). */
    async insert(
      table: string,
      rows: string[],
      options: { identity: boolean; nullColumns: string[] },
    ): Promise<number> {
      const overriding = options.identity ? 'OVERRIDING SYSTEM VALUE' : '';
      const json = options.nullColumns.length
        ? `(SELECT json_agg(r.j::jsonb - $2::text[]) FROM unnest($1::text[]) AS r(j))`
        : `(SELECT json_agg(r.j::json) FROM unnest($1::text[]) AS r(j))`;
      const params: unknown[] = options.nullColumns.length ? [rows, options.nullColumns] : [rows];
      const result = await db.query(
        `INSERT INTO ${ident(table)} ${overriding} SELECT * FROM json_populate_recordset(NULL::${ident(table)}, ${json}::json)`,
        params,
      );
      return result.rowCount;
    },

    /** Second pass for self references: sets `columns` from the JSON rows, matched on `key`. */
    async updateColumns(table: string, key: string, columns: string[], rows: string[]): Promise<void> {
      const set = columns.map((c) => `${ident(c)} = src.${ident(c)}`).join(', ');
      await db.query(
        `UPDATE ${ident(table)} t SET ${set}
           FROM json_populate_recordset(NULL::${ident(table)}, (SELECT json_agg(r.j::json) FROM unnest($1::text[]) AS r(j))) src
          WHERE t.${ident(key)} = src.${ident(key)}`,
        [rows],
      );
    },

    async primaryKey(table: string): Promise<string[]> {
      const { rows } = await db.query<{ name: string }>(
        `SELECT a.attname::text AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = $1::regclass AND i.indisprimary`,
        [ident(table)],
      );
      return rows.map((r) => r.name);
    },

    /** Vector indexes (HNSW, IVFFlat): dropped before a bulk load and rebuilt after, which is many times faster than inserting into them. */
    async vectorIndexes(): Promise<{ name: string; definition: string }[]> {
      const { rows } = await db.query<{ name: string; definition: string }>(
        `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = 'public' AND indexdef ~* 'USING (hnsw|ivfflat)'`,
      );
      return rows;
    },

    async dropIndex(name: string): Promise<void> {
      await db.exec(`DROP INDEX ${ident(name)}`);
    },

    async createIndex(definition: string): Promise<void> {
      await db.exec(definition);
    },

    /** Empties every given table (restore --force). The audit log's guard allows deletes only to retention. */
    async emptyTables(tables: string[]): Promise<void> {
      await db.query(`SELECT set_config('enclave.audit_prune', 'on', true)`);
      if (tables.includes('audit_log')) await db.query('DELETE FROM audit_log');
      const rest = tables.filter((t) => t !== 'audit_log');
      if (rest.length) await db.exec(`TRUNCATE ${rest.map(ident).join(', ')} RESTART IDENTITY CASCADE`);
      await db.query(`SELECT set_config('enclave.audit_prune', 'off', true)`);
    },
  };
}

/** Tables in an order where each comes after the tables it references (Kahn's algorithm, names as tie-break). */
export function dependencyOrder(tables: TableInfo[]): TableInfo[] {
  const pending = new Map(tables.map((t) => [t.name, t]));
  const ordered: TableInfo[] = [];
  while (pending.size) {
    const ready = [...pending.values()]
      .filter((t) => t.dependsOn.every((d) => !pending.has(d)))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (!ready.length) throw new Error(`Foreign keys form a cycle among: ${[...pending.keys()].join(', ')}`);
    for (const t of ready) {
      ordered.push(t);
      pending.delete(t.name);
    }
  }
  return ordered;
}
