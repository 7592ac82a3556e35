import type { Database, Queryable } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { JobOptionsMap, JobQueue } from './job-types.ts';
import { createOutboxRepository } from './outbox.repository.ts';

/** One job to run once a transaction commits. */
export type OutboxJob<M> = { [K in keyof M & string]: { name: K; payload: M[K] } }[keyof M & string];

/**
 * The transactional outbox, as the domain sees it: jobs written in the transaction of the change
 * they follow, so a commit cannot happen without them, and handed to the job runner by the relay
 * (`createOutboxRelay`). Queueing can then fail or wait (Redis down) without losing the work or
 * failing the request whose change committed.
 */
export interface Outbox<M> {
  /** Writes the jobs in the caller's transaction. Call `kick` after it commits. */
  add(tx: Queryable, jobs: OutboxJob<M>[]): Promise<void>;
  /** Makes these jobs, if still waiting in the outbox, due now (someone asks again for the work). */
  hasten(tx: Queryable, jobs: OutboxJob<M>[]): Promise<void>;
  /** Dispatches what is due now, in the background: the committing request does not wait for the job runner. */
  kick(): void;
}

export interface OutboxRelay<M> extends Outbox<M> {
  /** Begins dispatching: at once, after every `kick`, and every `pollMs` (rows of crashed processes, retries). */
  start(): void;
  /** Dispatches every due row now; resolves with how many the runner took. */
  drain(): Promise<number>;
  /** Stops polling and waits for a dispatch under way (before the runner and the database close). */
  stop(): Promise<void>;
}

export interface RelayTiming {
  /** How often due rows are looked for without a kick. */
  pollMs: number;
  /** A failed dispatch is retried after this, doubling per failure up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A dispatch the runner has not confirmed by then counts as failed (the row is tried again; job ids make that harmless). */
  dispatchTimeoutMs: number;
}

export const DEFAULT_RELAY_TIMING: RelayTiming = {
  pollMs: 1000,
  retryBaseMs: 500,
  retryMaxMs: 10_000,
  dispatchTimeoutMs: 5000,
};

/** Rows dispatched per transaction: the row locks are held while the runner is called. */
const BATCH = 100;

/** Writes jobs to the outbox in `tx`, each under the runner's deterministic id for it. */
export async function addToOutbox<M>(tx: Queryable, options: JobOptionsMap<M>, jobs: OutboxJob<M>[]): Promise<void> {
  await createOutboxRepository(tx).add(jobs.map((job) => ({ ...job, jobId: jobIdOf(options, job) })));
}

/** Enqueues one job of a union-typed list (the runner's `enqueue` is typed per name). */
export function enqueueJob<M>(queue: JobQueue<M>, job: OutboxJob<M>): Promise<string> {
  return queue.enqueue(job.name, job.payload as M[typeof job.name]);
}

function jobIdOf<M>(options: JobOptionsMap<M>, job: OutboxJob<M>): string {
  const jobId = options[job.name].jobId as (payload: unknown) => string;
  return jobId(job.payload);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`the job runner did not answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The relay: takes due outbox rows (`FOR UPDATE SKIP LOCKED`, so relays in several processes never
 * hand over the same row at once), enqueues each, and deletes those the runner took in the same
 * transaction. A failure backs that row off and ends the pass: while the runner is unreachable each
 * pass costs one attempt, not one per row. Should a process die between the enqueue and the commit,
 * the row is dispatched again, which the runner's deterministic job ids make a no-op.
 */
export function createOutboxRelay<M>(deps: {
  db: Database;
  jobs: JobQueue<M>;
  options: JobOptionsMap<M>;
  logger: Logger;
  timing?: Partial<RelayTiming>;
}): OutboxRelay<M> {
  const { db, jobs, options, logger } = deps;
  const timing = { ...DEFAULT_RELAY_TIMING, ...deps.timing };
  let started = false;
  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;
  let poll: NodeJS.Timeout | undefined;
  // Logged when dispatching starts failing and when it recovers, not at every retry of an outage.
  let failing = false;

  async function pass(): Promise<{ sent: number; more: boolean }> {
    return db.transaction(async (tx) => {
      const outbox = createOutboxRepository(tx);
      const rows = await outbox.lockDue(BATCH);
      const sent: string[] = [];
      let failure: { error: unknown; attempts: number } | undefined;
      for (const row of rows) {
        try {
          await withTimeout(
            enqueueJob(jobs, { name: row.job_name, payload: row.payload } as OutboxJob<M>),
            timing.dispatchTimeoutMs,
          );
          sent.push(row.id);
        } catch (error) {
          const attempts = row.attempts + 1;
          const message = error instanceof Error ? error.message : String(error);
          await outbox.failed(row.id, message, Math.min(timing.retryMaxMs, timing.retryBaseMs * 2 ** (attempts - 1)));
          failure = { error, attempts };
          break;
        }
      }
      if (sent.length) await outbox.remove(sent);
      if (failure && !failing)
        logger.warn({ err: failure.error }, 'jobs wait in the outbox: the job runner is unreachable');
      else if (!failure && failing && sent.length)
        logger.info({ jobs: sent.length }, 'the outbox is dispatching again');
      if (failure) failing = true;
      else if (sent.length) failing = false;
      return { sent: sent.length, more: !failure && rows.length === BATCH };
    });
  }

  async function run(): Promise<number> {
    let total = 0;
    do {
      again = false;
      for (let more = true; more && !stopped;) {
        const result = await pass();
        total += result.sent;
        more = result.more;
      }
    } while (again && !stopped);
    return total;
  }

  function drain(): Promise<number> {
    if (running) {
      // A pass under way may have read the rows before the newest commit: go round once more.
      again = true;
      return running;
    }
    running = run().finally(() => (running = undefined));
    return running;
  }

  function kick() {
    if (!started || stopped) return;
    drain().catch((error: unknown) => logger.warn({ err: error }, 'outbox dispatch failed; retried at the next poll'));
  }

  return {
    add: (tx, list) => addToOutbox(tx, options, list),
    async hasten(tx, list) {
      await createOutboxRepository(tx).hasten(list.map((job) => ({ name: job.name, jobId: jobIdOf(options, job) })));
    },
    kick,
    drain,
    start() {
      if (started || stopped) return;
      started = true;
      poll = setInterval(kick, timing.pollMs);
      poll.unref();
      kick();
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      await running?.catch(() => {});
    },
  };
}
