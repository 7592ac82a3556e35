/**
 * The vocabulary shared by both job runners. A processor is a plain async function of its payload;
 * it cannot tell whether BullMQ or the in-process runner called it.
 */
export interface JobContext {
  jobId: string;
  name: string;
  /** 1 on the first try, 2 on the first retry … */
  attempt: number;
  /** A scheduled job's tick (ms since the epoch): the same for every worker that holds the schedule. */
  tick?: number;
}

/** How often a scheduled job runs: a five-field cron expression in UTC (cron.ts), or every so many ms. */
export type Repeat = { cron: string } | { everyMs: number };

export type Processor<P> = (payload: P, context: JobContext) => Promise<void>;

export type Processors<M> = { [K in keyof M & string]: Processor<M[K]> };

export interface JobOptions<P> {
  /** Deterministic id: adding a job whose id already exists is a no-op (de-duplication). */
  jobId: (payload: P) => string;
  attempts: number;
  /** First retry delay; doubles each retry. */
  backoffMs: number;
  /** Jobs of this name processed at once per process. */
  concurrency: number;
}

export type JobOptionsMap<M> = { [K in keyof M & string]: JobOptions<M[K]> };

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed' | 'unknown';

export interface EnqueueOptions {
  delayMs?: number;
}

export interface JobEvent {
  name: string;
  jobId: string;
  state: 'active' | 'completed' | 'failed' | 'retrying';
  attempt: number;
  error?: string;
  durationMs?: number;
}

export interface JobQueue<M> {
  enqueue<K extends keyof M & string>(name: K, payload: M[K], options?: EnqueueOptions): Promise<string>;
}

/** Jobs that run on a schedule: one job per tick, however many processes hold the schedule. */
export interface JobSchedules<M> {
  /** Creates or replaces the schedule `id`, which enqueues `name` with `payload` on each tick. */
  schedule<K extends keyof M & string>(name: K, id: string, repeat: Repeat, payload: M[K]): Promise<void>;
  unschedule(name: keyof M & string, id: string): Promise<void>;
}

export interface JobRunner<M> extends JobQueue<M>, JobSchedules<M> {
  readonly kind: 'bullmq' | 'in-process';
  /** Begin executing processors in this process. Without it the runner only enqueues. */
  startProcessing(): Promise<void>;
  state(name: keyof M & string, jobId: string): Promise<JobState>;
  /** Counts per state for one job name (metrics, readiness, admin views). */
  counts(name: keyof M & string): Promise<Record<'waiting' | 'delayed' | 'active' | 'failed', number>>;
  /** Throws when the backing store cannot be reached (readiness). */
  ping(): Promise<void>;
  /** Stops taking jobs, waits for running ones up to `deadlineMs`, then releases resources. */
  close(deadlineMs: number): Promise<void>;
}

/** Thrown by a processor when retrying cannot help (a corrupt file, a deleted row). */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export function assertEveryJobHasProcessor<M>(options: JobOptionsMap<M>, processors: Partial<Processors<M>>): void {
  const missing = Object.keys(options).filter(
    (name) => typeof (processors as Record<string, unknown>)[name] !== 'function',
  );
  if (missing.length) throw new Error(`No processor registered for job(s): ${missing.join(', ')}`);
}

export function retryDelay(options: Pick<JobOptions<unknown>, 'backoffMs'>, attempt: number): number {
  return options.backoffMs * 2 ** (attempt - 1);
}
