import type { Database, Queryable } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { JobOptionsMap, JobQueue, JobRunner } from './job-types.ts';
import { createOutboxRepository, type OutboxRow } from './outbox.repository.ts';

/** One job to run once a transaction commits. */
export type OutboxJob<M> = { [K in keyof M & string]: { name: K; payload: M[K] } }[keyof M & string];

/**
 * The transactional outbox, as the domain sees it: jobs written in the transaction of the change
 * they follow, so a commit cannot happen without them, and handed to the job runner by the relay
 * (`createOutboxRelay`). Queueing can then fail or wait (Redis down) without losing the work or
 * failing the request whose change committed.
 */
export interface Outbox<M> {
  /** Writes the jobs in the caller's transaction. Call `dispatch` with them after it commits. */
  add(tx: Queryable, jobs: OutboxJob<M>[]): Promise<void>;
  /**
   * Hands committed jobs to the runner now, in the background (the request does not wait for it),
   * and marks their rows dispatched; if the runner cannot take them, the relay will. Also for work
   * asked for again (a resent question): a job the runner holds or has run is not run twice.
   */
  dispatch(jobs: OutboxJob<M>[]): void;
}

export interface OutboxRelay<M> extends Outbox<M> {
  /** Begins relaying: at once, then every `pollMs` (retries, checks, rows no `dispatch` reached). */
  start(): void;
  /** Looks at every due row now; resolves with how many jobs the runner was given. */
  drain(): Promise<number>;
  /** The runner ran this job (completed, or failed for good): its row, if it came through the outbox, is done. */
  finished(name: string, jobId: string): Promise<void>;
  /** Stops polling and waits for a dispatch under way (before the runner and the database close). */
  stop(): Promise<void>;
}

const TIMING = {
  /** How often each relay looks for due rows. */
  pollMs: 1000,
  /** A failed dispatch is retried after this, doubling per failure up to `retryMaxMs`. */
  retryBaseMs: 500,
  retryMaxMs: 10_000,
  /** A dispatch the runner has not confirmed by then counts as failed (the row is tried again; job ids make that harmless). */
  dispatchTimeoutMs: 5000,
  /** A dispatched job not finished after this is looked up in the runner (dispatched again if it lost it), and so on. */
  checkAfterMs: 15_000,
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
 * The relay. It takes due outbox rows (`FOR UPDATE SKIP LOCKED`, so relays in several processes
 * never handle the same row at once) and enqueues those not dispatched yet; a dispatched row stays
 * until its job has run (`finished`, from the runner's events), and when it comes due again the
 * relay asks the runner about its job: gone without having run (Redis restarted empty, an
 * in-process runner's process died) means it is enqueued again. Job ids are deterministic, so a
 * second dispatch of a job the runner still holds is a no-op, and processors re-check the rows they
 * act on, so a job that ran but whose row survived does nothing the second time.
 *
 * A failure backs that row off and ends the pass: while the runner is unreachable each pass costs
 * one attempt, not one per row.
 */
export function createOutboxRelay<M>(deps: {
  db: Database;
  jobs: Pick<JobRunner<M>, 'enqueue' | 'state'>;
  options: JobOptionsMap<M>;
  logger: Logger;
}): OutboxRelay<M> {
  const { db, jobs, options, logger } = deps;
  let started = false;
  let stopped = false;
  let running: Promise<number> | undefined;
  let again = false;
  let poll: NodeJS.Timeout | undefined;
  // Logged when dispatching starts failing and when it recovers, not at every retry of an outage.
  let failing = false;

  /** What to do with one due row: dispatch it (again), or it is done, or look again later. */
  async function look(row: OutboxRow): Promise<'dispatched' | 'done' | 'later'> {
    const job = { name: row.job_name, payload: row.payload } as OutboxJob<M>;
    const deadline = TIMING.dispatchTimeoutMs;
    if (row.dispatched) {
      const state = await withTimeout(jobs.state(job.name, row.job_id), deadline);
      if (state === 'completed' || state === 'failed') return 'done';
      if (state !== 'unknown') return 'later';
    }
    await withTimeout(enqueueJob(jobs, job), deadline);
    return 'dispatched';
  }

  async function pass(): Promise<{ dispatched: number; more: boolean }> {
    return db.transaction(async (tx) => {
      const outbox = createOutboxRepository(tx);
      const rows = await outbox.lockDue(BATCH);
      const sent: string[] = [];
      const done: string[] = [];
      let failure: unknown;
      for (const row of rows) {
        try {
          const outcome = await look(row);
          (outcome === 'done' ? done : sent).push(row.id);
          if (outcome === 'dispatched' && row.dispatched)
            logger.warn({ job: row.job_name, jobId: row.job_id }, 'the job runner lost a job; dispatched again');
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const retryIn = Math.min(TIMING.retryMaxMs, TIMING.retryBaseMs * 2 ** row.attempts);
          await outbox.failed(row.id, message, retryIn);
          failure = error;
          break;
        }
      }
      await outbox.dispatched(sent, TIMING.checkAfterMs);
      await outbox.remove(done);
      if (failure !== undefined && !failing)
        logger.warn({ err: failure }, 'jobs wait in the outbox: the job runner is unreachable');
      else if (failure === undefined && failing && rows.length)
        logger.info({ jobs: rows.length }, 'the outbox is dispatching again');
      if (failure !== undefined) failing = true;
      else if (rows.length) failing = false;
      return { dispatched: sent.length, more: failure === undefined && rows.length === BATCH };
    });
  }

  async function run(): Promise<number> {
    let total = 0;
    do {
      again = false;
      for (let more = true; more && !stopped;) {
        const result = await pass();
        total += result.dispatched;
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
    drain().catch((error: unknown) =>
      logger.warn({ err: error }, 'outbox relay pass failed; retried at the next poll'),
    );
  }

  /** The fast path after a commit: straight to the runner, as if there were no outbox, then the rows marked. */
  async function dispatchNow(list: OutboxJob<M>[]): Promise<void> {
    const taken = await Promise.all(
      list.map((job) =>
        withTimeout(enqueueJob(jobs, job), TIMING.dispatchTimeoutMs).then(
          () => ({ name: job.name, jobId: jobIdOf(options, job) }),
          () => undefined,
        ),
      ),
    );
    const keys = taken.filter((key) => key !== undefined);
    // Not marked (the runner refused, or the process dies first): the relay dispatches it again.
    await createOutboxRepository(db).markDispatched(keys, TIMING.checkAfterMs);
  }

  return {
    add: (tx, list) => addToOutbox(tx, options, list),
    dispatch(list) {
      if (stopped || !list.length) return;
      dispatchNow(list).catch((error: unknown) =>
        logger.warn({ err: error }, 'committed jobs not marked dispatched; the relay checks on them'),
      );
    },
    drain,
    async finished(name, jobId) {
      await createOutboxRepository(db).finished({ name, jobId });
    },
    start() {
      if (started || stopped) return;
      started = true;
      poll = setInterval(kick, TIMING.pollMs);
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
