import { nextCronTick, parseCron } from './cron.ts';
import {
  assertEveryJobHasProcessor,
  PermanentJobError,
  retryDelay,
  type EnqueueOptions,
  type JobEvent,
  type JobOptionsMap,
  type JobRunner,
  type JobState,
  type Processors,
} from './job-types.ts';

interface JobRecord {
  name: string;
  id: string;
  payload: unknown;
  state: JobState;
  attempt: number;
  tick?: number;
  timer?: NodeJS.Timeout;
}

// Finished jobs are remembered (like BullMQ's removeOnComplete/removeOnFail counts) so a repeated
// id stays a no-op for a while and tests can read the final state.
const FINISHED_KEPT = 1000;

/**
 * Runs jobs inside this process with BullMQ's semantics: de-duplication by job id, bounded
 * concurrency per job name, exponential backoff, no retry after PermanentJobError. Jobs live in
 * memory; features re-enqueue unfinished work from the database at start (a crash loses nothing
 * that is recorded there).
 */
export function createInProcessRunner<M>(options: {
  jobs: JobOptionsMap<M>;
  processors: Processors<M>;
  onEvent?: (event: JobEvent) => void;
}): JobRunner<M> {
  assertEveryJobHasProcessor(options.jobs, options.processors);
  const records = new Map<string, JobRecord>();
  const finished: string[] = [];
  const waiting = new Map<string, JobRecord[]>();
  const active = new Map<string, number>();
  const running = new Set<Promise<void>>();
  const schedules = new Map<string, NodeJS.Timeout>();
  let processing = false;
  let closed = false;

  const key = (name: string, id: string) => `${name}\u0000${id}`;
  const definition = (name: string) => options.jobs[name as keyof M & string];

  function remember(record: JobRecord) {
    finished.push(key(record.name, record.id));
    while (finished.length > FINISHED_KEPT) records.delete(finished.shift()!);
  }

  function pump(name: string) {
    if (!processing || closed) return;
    const queue = waiting.get(name) ?? [];
    while (queue.length && (active.get(name) ?? 0) < definition(name).concurrency) {
      const record = queue.shift()!;
      active.set(name, (active.get(name) ?? 0) + 1);
      const run = execute(record).finally(() => {
        running.delete(run);
        active.set(name, (active.get(name) ?? 1) - 1);
        pump(name);
      });
      running.add(run);
    }
  }

  function makeWaiting(record: JobRecord) {
    record.state = 'waiting';
    const queue = waiting.get(record.name) ?? [];
    queue.push(record);
    waiting.set(record.name, queue);
    pump(record.name);
  }

  async function execute(record: JobRecord) {
    const def = definition(record.name);
    const processor = options.processors[record.name as keyof M & string] as (p: unknown, c: unknown) => Promise<void>;
    record.state = 'active';
    record.attempt += 1;
    const started = Date.now();
    options.onEvent?.({ name: record.name, jobId: record.id, state: 'active', attempt: record.attempt });
    try {
      await processor(record.payload, {
        jobId: record.id,
        name: record.name,
        attempt: record.attempt,
        ...(record.tick !== undefined ? { tick: record.tick } : {}),
      });
      record.state = 'completed';
      remember(record);
      options.onEvent?.({
        name: record.name,
        jobId: record.id,
        state: 'completed',
        attempt: record.attempt,
        durationMs: Date.now() - started,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retry = !(error instanceof PermanentJobError) && record.attempt < def.attempts && !closed;
      options.onEvent?.({
        name: record.name,
        jobId: record.id,
        state: retry ? 'retrying' : 'failed',
        attempt: record.attempt,
        error: message,
        durationMs: Date.now() - started,
      });
      if (retry) {
        record.state = 'delayed';
        record.timer = setTimeout(() => makeWaiting(record), retryDelay(def, record.attempt));
      } else {
        record.state = 'failed';
        remember(record);
      }
    }
  }

  function add(name: string, id: string, payload: unknown, delayMs: number | undefined, tick?: number) {
    if (records.has(key(name, id))) return;
    const record: JobRecord = {
      name,
      id,
      payload,
      state: 'waiting',
      attempt: 0,
      ...(tick !== undefined ? { tick } : {}),
    };
    records.set(key(name, id), record);
    if (delayMs) {
      record.state = 'delayed';
      record.timer = setTimeout(() => makeWaiting(record), delayMs);
    } else {
      makeWaiting(record);
    }
  }

  return {
    kind: 'in-process',
    async enqueue(name, payload, enqueueOptions: EnqueueOptions = {}) {
      if (closed) throw new Error('The job runner is shut down');
      const def = definition(name);
      if (!def) throw new Error(`Unknown job "${name}"`);
      const id = def.jobId(payload);
      add(name, id, payload, enqueueOptions.delayMs);
      return id;
    },
    async schedule(name, id, repeat, payload) {
      if (!definition(name)) throw new Error(`Unknown job "${name}"`);
      const cron = 'cron' in repeat ? parseCron(repeat.cron) : undefined;
      clearTimeout(schedules.get(id));
      // Ticks as BullMQ names them, so a job's tick is the same whichever runner made it.
      const arm = () => {
        const now = Date.now();
        const next = cron
          ? nextCronTick(cron, new Date(now))?.getTime()
          : (Math.floor(now / (repeat as { everyMs: number }).everyMs) + 1) * (repeat as { everyMs: number }).everyMs;
        if (next === undefined) return;
        // setTimeout holds at most ~24.8 days: a later tick is reached in steps.
        const wait = Math.min(next - now, 2 ** 31 - 1);
        const timer = setTimeout(() => {
          if (closed) return;
          if (Date.now() >= next) add(name, `repeat:${id}:${next}`, payload, undefined, next);
          arm();
        }, wait);
        timer.unref();
        schedules.set(id, timer);
      };
      arm();
    },
    async unschedule(_name, id) {
      clearTimeout(schedules.get(id));
      schedules.delete(id);
    },
    async startProcessing() {
      processing = true;
      for (const name of waiting.keys()) pump(name);
    },
    async state(name, jobId) {
      return records.get(key(name, jobId))?.state ?? 'unknown';
    },
    async counts(name) {
      const counts = { waiting: 0, delayed: 0, active: 0, failed: 0 };
      for (const record of records.values()) {
        if (record.name === name && record.state in counts) counts[record.state as keyof typeof counts] += 1;
      }
      return counts;
    },
    async ping() {
      if (closed) throw new Error('The job runner is shut down');
    },
    async close(deadlineMs) {
      closed = true;
      for (const record of records.values()) clearTimeout(record.timer);
      for (const timer of schedules.values()) clearTimeout(timer);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => (timer = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timer);
    },
  };
}
