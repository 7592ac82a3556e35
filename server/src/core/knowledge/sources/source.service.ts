import { randomUUID } from 'node:crypto';
import { appendAudit } from '../../audit/audit.service.ts';
import type { Database } from '../../db/database.ts';
import { AppError, notFound } from '../../errors.ts';
import { CronError } from '../../jobs/cron.ts';
import type { JobMap } from '../../jobs/job-map.ts';
import type { JobSchedules } from '../../jobs/job-types.ts';
import type { Outbox, OutboxJob } from '../../jobs/outbox.ts';
import type { Logger } from '../../logger.ts';
import type { Actor } from '../../policy/actor.ts';
import type { ClientInfo, CollectionService } from '../collection.service.ts';
import { createDocumentVersionRepository } from '../document-version.repository.ts';
import { createDocumentRepository } from '../document.repository.ts';
import { allowedFolder } from './folder-connector.ts';
import { repeatOf, schedulerIdOf } from './schedule.ts';
import { createSourceRepository, type RunTrigger, type SourceRow } from './source.repository.ts';

/** How many past runs an admin sees per source. */
const RUNS_SHOWN = 5;

/** The job that refreshes a source once, for one request. */
export function refreshJob(
  sourceId: string,
  trigger: Exclude<RunTrigger, 'schedule'>,
  requestedBy: string,
  documentId?: string,
): OutboxJob<JobMap> {
  return {
    name: 'refresh-source',
    payload: { sourceId, trigger, request: randomUUID(), requestedBy, ...(documentId ? { documentId } : {}) },
  };
}

/**
 * Sources as admins manage them: a folder on the server added (only under SYNC_ALLOWED_ROOTS), a
 * schedule set (hourly, daily, weekly, a cron expression) or cleared, a refresh asked for now, runs
 * and document versions read. Changes are audited; schedules live in the job runner (BullMQ's job
 * schedulers with Redis, timers in-process), synced from the database at start.
 */
export function createSourceService(deps: {
  db: Database;
  outbox: Outbox<JobMap>;
  schedules: JobSchedules<JobMap>;
  collections: Pick<CollectionService, 'assertReadable'>;
  syncAllowedRoots: readonly string[];
  logger: Logger;
}) {
  const { db, outbox, schedules } = deps;

  async function getSource(id: string): Promise<SourceRow> {
    const source = await createSourceRepository(db).find(id);
    if (!source) throw notFound('Source');
    return source;
  }

  function validSchedule(schedule: string | null | undefined): string | null {
    if (!schedule) return null;
    try {
      repeatOf(schedule);
      return schedule;
    } catch (error) {
      if (error instanceof CronError) throw new AppError(400, 'bad_schedule', error.message);
      throw error;
    }
  }

  async function applySchedule(source: Pick<SourceRow, 'id' | 'schedule'>) {
    if (source.schedule)
      await schedules.schedule('refresh-source', schedulerIdOf(source.id), repeatOf(source.schedule), {
        sourceId: source.id,
        trigger: 'schedule',
        request: 'schedule',
      });
    else await schedules.unschedule('refresh-source', schedulerIdOf(source.id));
  }

  async function withRuns(sources: SourceRow[]) {
    const runs = await createSourceRepository(db).recentRuns(
      sources.map((s) => s.id),
      RUNS_SHOWN,
    );
    return sources.map((source) => ({ source, runs: runs.filter((r) => r.source_id === source.id) }));
  }

  return {
    async listSources(actor: Actor, collectionId: string) {
      await deps.collections.assertReadable(actor, collectionId);
      return withRuns(await createSourceRepository(db).listByCollection(collectionId));
    },

    async getSource(id: string) {
      return (await withRuns([await getSource(id)]))[0]!;
    },

    /** A directory on the server, synced now and then on its schedule. */
    async addFolder(
      actor: Actor,
      collectionId: string,
      input: { path: string; schedule?: string | null | undefined },
      client: ClientInfo,
    ) {
      await deps.collections.assertReadable(actor, collectionId);
      const location = await allowedFolder(input.path, deps.syncAllowedRoots);
      const schedule = validSchedule(input.schedule);
      const { source, job } = await db.transaction(async (tx) => {
        const { source, created } = await createSourceRepository(tx).upsert({
          collectionId,
          kind: 'folder',
          location,
          schedule,
          createdBy: actor.id,
        });
        if (!created) throw new AppError(409, 'source_exists', 'This folder is already synced into the collection');
        const job = refreshJob(source.id, 'manual', actor.id);
        await outbox.add(tx, [job]);
        await appendAudit(tx, {
          action: 'source.created',
          actor,
          target: { type: 'source', id: source.id },
          ip: client.ip,
          details: { collectionId, kind: 'folder', location, schedule },
        });
        return { source, job };
      });
      await applySchedule(source);
      outbox.dispatch([job]);
      return this.getSource(source.id);
    },

    async setSchedule(actor: Actor, id: string, input: { schedule: string | null }, client: ClientInfo) {
      const schedule = validSchedule(input.schedule);
      const source = await db.transaction(async (tx) => {
        const repo = createSourceRepository(tx);
        const before = await repo.find(id);
        if (!before) throw notFound('Source');
        const after = (await repo.setSchedule(id, schedule))!;
        await appendAudit(tx, {
          action: 'source.schedule_changed',
          actor,
          target: { type: 'source', id },
          ip: client.ip,
          details: { from: before.schedule, to: schedule },
        });
        return after;
      });
      await applySchedule(source);
      return this.getSource(id);
    },

    /** Queues a run now (one runs at a time: a request while one runs finds nothing left to do). */
    async refreshNow(actor: Actor, id: string, client: ClientInfo) {
      await getSource(id);
      const job = refreshJob(id, 'manual', actor.id);
      await db.transaction(async (tx) => {
        await outbox.add(tx, [job]);
        await appendAudit(tx, {
          action: 'source.refresh_requested',
          actor,
          target: { type: 'source', id },
          ip: client.ip,
        });
      });
      outbox.dispatch([job]);
      return this.getSource(id);
    },

    /** Stops keeping the documents in step: they stay, as documents of no source. */
    async deleteSource(actor: Actor, id: string, client: ClientInfo) {
      await db.transaction(async (tx) => {
        if (!(await createSourceRepository(tx).delete(id))) throw notFound('Source');
        await appendAudit(tx, { action: 'source.deleted', actor, target: { type: 'source', id }, ip: client.ip });
      });
      await schedules.unschedule('refresh-source', schedulerIdOf(id));
    },

    async listVersions(documentId: string) {
      if (!(await createDocumentRepository(db).findById(documentId))) throw notFound('Document');
      return createDocumentVersionRepository(db).list(documentId);
    },

    /** Every scheduled source's schedule into the job runner (at start: in-process timers do not outlive a process). */
    async syncSchedules(): Promise<number> {
      const scheduled = await createSourceRepository(db).scheduled();
      for (const source of scheduled) {
        await applySchedule(source).catch((error: unknown) =>
          deps.logger.warn({ sourceId: source.id, err: error }, 'source schedule not applied'),
        );
      }
      return scheduled.length;
    },
  };
}

export type SourceService = ReturnType<typeof createSourceService>;
