import type { Queryable } from '../../db/database.ts';

export type SourceKind = 'url' | 'site' | 'folder';
export type RunTrigger = 'manual' | 'schedule' | 'reimport' | 'reindex';

export interface SourceRow {
  id: string;
  collection_id: string;
  kind: SourceKind;
  location: string;
  settings: Record<string, unknown>;
  schedule: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  /** Its documents: how many, and how many a refresh retired. */
  document_count: number;
  retired_count: number;
}

export interface RunChanges {
  added: number;
  updated: number;
  unchanged: number;
  retired: number;
  failures: { key: string; reason: string }[];
}

export interface SourceRunRow {
  id: string;
  source_id: string;
  trigger: RunTrigger;
  tick: string | null;
  requested_by: string | null;
  started_at: Date;
  finished_at: Date | null;
  status: 'running' | 'ok' | 'failed';
  error: string | null;
  changes: Partial<RunChanges>;
}

const SOURCE_COLUMNS = `s.*,
  (SELECT count(*)::int FROM documents d WHERE d.source_id = s.id) AS document_count,
  (SELECT count(*)::int FROM documents d WHERE d.source_id = s.id AND d.retired_reason IS NOT NULL) AS retired_count`;

/** A run left unfinished this long was cut short (its process died): another may start. */
const STALE_RUN = `interval '1 hour'`;

export function createSourceRepository(db: Queryable) {
  return {
    /** The source at that location, made if new; `created` tells which. */
    async upsert(source: {
      collectionId: string;
      kind: SourceKind;
      location: string;
      settings?: Record<string, unknown>;
      schedule?: string | null;
      createdBy: string | null;
    }): Promise<{ source: SourceRow; created: boolean }> {
      const { rows } = await db.query<{ id: string; created: boolean }>(
        `INSERT INTO sources (collection_id, kind, location, settings, schedule, created_by)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6)
         ON CONFLICT (collection_id, kind, location) DO UPDATE SET updated_at = sources.updated_at
         RETURNING id, (xmax = 0) AS created`,
        [
          source.collectionId,
          source.kind,
          source.location,
          JSON.stringify(source.settings ?? {}),
          source.schedule ?? null,
          source.createdBy,
        ],
      );
      return { source: (await this.find(rows[0]!.id))!, created: rows[0]!.created };
    },
    async find(id: string): Promise<SourceRow | undefined> {
      const { rows } = await db.query<SourceRow>(`SELECT ${SOURCE_COLUMNS} FROM sources s WHERE s.id = $1`, [id]);
      return rows[0];
    },
    /** A URL import's source (a single page or a crawled site) at that address. */
    async findWebSource(collectionId: string, url: string): Promise<SourceRow | undefined> {
      const { rows } = await db.query<SourceRow>(
        `SELECT ${SOURCE_COLUMNS} FROM sources s WHERE s.collection_id = $1 AND s.location = $2 AND s.kind IN ('url', 'site')`,
        [collectionId, url],
      );
      return rows[0];
    },
    async listByCollection(collectionId: string): Promise<SourceRow[]> {
      const { rows } = await db.query<SourceRow>(
        `SELECT ${SOURCE_COLUMNS} FROM sources s WHERE s.collection_id = $1 ORDER BY s.created_at`,
        [collectionId],
      );
      return rows;
    },
    async scheduled(): Promise<Pick<SourceRow, 'id' | 'schedule'>[]> {
      const { rows } = await db.query<Pick<SourceRow, 'id' | 'schedule'>>(
        'SELECT id, schedule FROM sources WHERE schedule IS NOT NULL',
      );
      return rows;
    },
    async setSchedule(id: string, schedule: string | null): Promise<SourceRow | undefined> {
      await db.query('UPDATE sources SET schedule = $2, updated_at = now() WHERE id = $1', [id, schedule]);
      return this.find(id);
    },
    async delete(id: string): Promise<boolean> {
      const { rowCount } = await db.query('DELETE FROM sources WHERE id = $1', [id]);
      return rowCount > 0;
    },

    /**
     * Starts a run unless one is running (one at a time per source) or, for a scheduled run, its
     * tick has had its run already (each tick runs once, whichever worker's job gets here first).
     * A run unfinished for an hour is marked failed first: its process died.
     */
    async startRun(run: {
      sourceId: string;
      trigger: RunTrigger;
      tick: number | null;
      requestedBy: string | null;
    }): Promise<SourceRunRow | undefined> {
      await db.query(
        `UPDATE source_runs SET finished_at = now(), status = 'failed', error = 'Interrupted'
          WHERE source_id = $1 AND finished_at IS NULL AND started_at < now() - ${STALE_RUN}`,
        [run.sourceId],
      );
      const { rows } = await db.query<SourceRunRow>(
        `INSERT INTO source_runs (source_id, trigger, tick, requested_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING *, tick::text AS tick`,
        [run.sourceId, run.trigger, run.tick, run.requestedBy],
      );
      return rows[0];
    },
    async finishRun(id: string, result: { status: 'ok' | 'failed'; error?: string | null; changes: RunChanges }) {
      await db.query(
        `UPDATE source_runs SET finished_at = now(), status = $2, error = $3, changes = $4::jsonb WHERE id = $1`,
        [id, result.status, result.error ?? null, JSON.stringify(result.changes)],
      );
    },
    /** The newest runs of each source, newest first (`perSource` each). */
    async recentRuns(sourceIds: string[], perSource: number): Promise<SourceRunRow[]> {
      const { rows } = await db.query<SourceRunRow>(
        `SELECT r.*, r.tick::text AS tick FROM sources s
           CROSS JOIN LATERAL (SELECT * FROM source_runs x WHERE x.source_id = s.id ORDER BY x.started_at DESC LIMIT $2) r
          WHERE s.id = ANY($1::uuid[]) ORDER BY r.started_at DESC`,
        [sourceIds, perSource],
      );
      return rows;
    },
  };
}

export type SourceRepository = ReturnType<typeof createSourceRepository>;
