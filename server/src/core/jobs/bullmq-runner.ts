import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  assertEveryJobHasProcessor,
  PermanentJobError,
  type EnqueueOptions,
  type JobEvent,
  type JobOptionsMap,
  type JobRunner,
  type JobState,
  type Processors,
} from './job-types.ts';

export interface BullmqRunnerOptions<M> {
  redisUrl: string;
  jobs: JobOptionsMap<M>;
  processors: Processors<M>;
  /** Key prefix in Redis; tests use a fresh one so runs never see each other's jobs. */
  prefix?: string;
  /** How long a job's lock lives without renewal: a killed worker's job is retried after this. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  onEvent?: (event: JobEvent) => void;
}

const KNOWN_STATES: JobState[] = ['waiting', 'delayed', 'active', 'completed', 'failed'];

/** One BullMQ queue per job name, so each has its own concurrency and its own depth metrics. */
export function createBullmqRunner<M>(options: BullmqRunnerOptions<M>): JobRunner<M> {
  assertEveryJobHasProcessor(options.jobs, options.processors);
  const prefix = options.prefix ?? 'enclave';
  const names = Object.keys(options.jobs) as (keyof M & string)[];
  // Queue commands should fail fast when Redis is away (an API request is waiting on them) …
  const queueConnection = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: false });
  queueConnection.on('error', () => {});
  const queues = new Map(names.map((name) => [name, new Queue(name, { connection: queueConnection, prefix })]));
  const workers: Worker[] = [];
  const workerConnections: Redis[] = [];

  const queue = (name: string) => {
    const q = queues.get(name as keyof M & string);
    if (!q) throw new Error(`Unknown job "${name}"`);
    return q;
  };

  function emit(job: Job, state: JobEvent['state'], extra: Partial<JobEvent> = {}) {
    options.onEvent?.({ name: job.name, jobId: job.id ?? '', state, attempt: job.attemptsMade + 1, ...extra });
  }

  return {
    kind: 'bullmq',
    async enqueue(name, payload, enqueueOptions: EnqueueOptions = {}) {
      const def = options.jobs[name];
      if (!def) throw new Error(`Unknown job "${name}"`);
      const jobId = def.jobId(payload);
      await queue(name).add(name, payload, {
        jobId,
        attempts: def.attempts,
        backoff: { type: 'exponential', delay: def.backoffMs },
        delay: enqueueOptions.delayMs,
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 5000 },
      });
      return jobId;
    },
    async schedule(name, id, repeat, payload) {
      const def = options.jobs[name];
      // BullMQ makes one job per tick, whichever process upserted the schedule.
      await queue(name).upsertJobScheduler(
        id,
        'cron' in repeat ? { pattern: repeat.cron, tz: 'UTC' } : { every: repeat.everyMs },
        {
          name,
          data: payload,
          opts: {
            attempts: def.attempts,
            backoff: { type: 'exponential', delay: def.backoffMs },
            removeOnComplete: { count: 1000 },
            removeOnFail: { count: 5000 },
          },
        },
      );
    },
    async unschedule(name, id) {
      await queue(name).removeJobScheduler(id);
    },
    async startProcessing() {
      for (const name of names) {
        // … while workers block on Redis and must wait through outages (BullMQ requires this).
        const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
        connection.on('error', () => {});
        workerConnections.push(connection);
        const processor = options.processors[name] as (p: unknown, c: unknown) => Promise<void>;
        const worker = new Worker(
          name,
          async (job: Job) => {
            emit(job, 'active');
            const started = Date.now();
            try {
              await processor(job.data, {
                jobId: job.id,
                name: job.name,
                attempt: job.attemptsMade + 1,
                // A job scheduler's job is named repeat:<scheduler>:<tick ms>.
                ...(job.repeatJobKey ? { tick: Number(job.id?.split(':').pop()) } : {}),
              });
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              const final = error instanceof PermanentJobError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
              emit(job, final ? 'failed' : 'retrying', { error: message, durationMs: Date.now() - started });
              if (error instanceof PermanentJobError) throw new UnrecoverableError(message);
              throw error;
            }
            emit(job, 'completed', { durationMs: Date.now() - started });
          },
          {
            connection,
            prefix,
            concurrency: options.jobs[name].concurrency,
            ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
            ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
          },
        );
        worker.on('error', () => {});
        workers.push(worker);
      }
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },
    async state(name, jobId) {
      const job = await queue(name).getJob(jobId);
      if (!job) return 'unknown';
      const state = await job.getState();
      if (state === 'prioritized' || state === 'waiting-children') return 'waiting';
      return KNOWN_STATES.includes(state as JobState) ? (state as JobState) : 'unknown';
    },
    async counts(name) {
      const c = await queue(name).getJobCounts('waiting', 'delayed', 'active', 'failed');
      return { waiting: c.waiting ?? 0, delayed: c.delayed ?? 0, active: c.active ?? 0, failed: c.failed ?? 0 };
    },
    async ping() {
      await queueConnection.ping();
    },
    async close(deadlineMs) {
      // BullMQ's close() waits for running jobs without limit, and a close(true) after it has begun
      // returns that same wait. So stop fetching and wait for running jobs (pause) up to the
      // deadline here, then close: forcibly if jobs still run. Those are abandoned: their locks
      // expire and another worker retries them.
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.all(workers.map((w) => w.pause()));
      const timedOut = await Promise.race([
        drained.then(
          () => false,
          () => false,
        ),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs))),
      ]);
      clearTimeout(timer);
      await Promise.all(workers.map((w) => w.close(timedOut)));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await Promise.all([...workerConnections, queueConnection].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
