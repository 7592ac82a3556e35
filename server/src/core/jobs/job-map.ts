import type { Config } from '../../config.ts';
import type { JobOptionsMap } from './job-types.ts';

/**
 * Every background job Enclave runs: name → payload. Payloads carry ids only; processors read the
 * current rows themselves, so a retried or late job never acts on stale data.
 */
export interface JobMap {
  /** The bot's reply to one user message. */
  answer: { messageId: number };
  /** A model-written short title for a bot conversation, after its first answer. */
  'title-conversation': { conversationId: string };
  /** Deletes expired and long-revoked sessions and idle sign-in counters. `period` (hours since epoch) makes one job per hour cluster-wide. */
  'purge-sessions': { period: number };
  /** Applies the audit retention (AUDIT_RETENTION_DAYS); `period` (days since epoch) makes one a day. */
  'prune-audit': { period: number };
  /** Applies message and file retention (MESSAGE_RETENTION_DAYS, FILE_RETENTION_DAYS); `period` (days since epoch) makes one a day. */
  retention: { period: number };
  /** Parses, splits, embeds and indexes one version of a document (a re-index bumps the version). */
  'ingest-document': { documentId: string; version: number };
  /**
   * `ingest-document` for the small documents of one bulk import, all at one version, indexed in
   * one transaction. `batchId` is also in each document's metadata (`batch`), so a restart
   * re-enqueues the same job.
   */
  'ingest-batch': { batchId: string; version: number; documentIds: string[] };
  /**
   * Refreshes a source (a URL, a crawled site, a folder) through its connector. `request` names one
   * asked-for run (a refresh now, a re-import, a re-index); a schedule's jobs come from the runner's
   * job scheduler with request `schedule`, each tick its own job. `documentId`: only that document.
   */
  'refresh-source': {
    sourceId: string;
    trigger: 'manual' | 'schedule' | 'reimport' | 'reindex';
    request: string;
    requestedBy?: string | undefined;
    documentId?: string | undefined;
  };
}

export type JobName = keyof JobMap;

/** Job options decided in one place: de-duplication ids, retries, concurrency. */
export const jobOptions: JobOptionsMap<JobMap> = {
  answer: {
    jobId: ({ messageId }) => `answer-${messageId}`,
    // A retry redoes a half-streamed answer; model faults are retried inside the job already.
    attempts: 2,
    backoffMs: 2000,
    concurrency: 16,
  },
  'title-conversation': {
    // One title per conversation: written once, never replaced.
    jobId: ({ conversationId }) => `title-${conversationId}`,
    attempts: 1,
    backoffMs: 0,
    concurrency: 4,
  },
  'ingest-document': {
    // No ':' in BullMQ job ids. A duplicate add or a retry of the same version is the same job.
    jobId: ({ documentId, version }) => `ingest-${documentId}-v${version}`,
    attempts: 4,
    backoffMs: 2_000,
    // Processes take JOB_CONCURRENCY instead (jobOptionsFor); this is what tests' bare runners use.
    concurrency: 2,
  },
  'ingest-batch': {
    // The version too: a re-embed re-queues the same batch at a new version, which must be a new
    // job while BullMQ still keeps the finished one under the old id.
    jobId: ({ batchId, version }) => `ingest-batch-${batchId}-v${version}`,
    attempts: 4,
    backoffMs: 2_000,
    concurrency: 2,
  },
  'refresh-source': {
    jobId: ({ sourceId, request }) => `refresh-${sourceId}-${request}`,
    // A failed run is recorded with its reason; the next tick or an admin's "refresh now" tries again.
    attempts: 1,
    backoffMs: 30_000,
    concurrency: 2,
  },
  'purge-sessions': {
    jobId: ({ period }) => `purge-sessions-${period}`,
    attempts: 3,
    backoffMs: 10_000,
    concurrency: 1,
  },
  retention: {
    jobId: ({ period }) => `retention-${period}`,
    attempts: 3,
    backoffMs: 60_000,
    concurrency: 1,
  },
  'prune-audit': {
    jobId: ({ period }) => `prune-audit-${period}`,
    attempts: 3,
    backoffMs: 60_000,
    concurrency: 1,
  },
};

/**
 * The options a process runs with: ingestion's concurrency from JOB_CONCURRENCY. A document's
 * indexing alternates between CPU (the parser threads, embedding) and database round trips, so
 * several in flight keep both busy; the other jobs' concurrency follows from what they wait on.
 */
export function jobOptionsFor(config: Pick<Config, 'jobConcurrency'>): JobOptionsMap<JobMap> {
  return {
    ...jobOptions,
    'ingest-document': { ...jobOptions['ingest-document'], concurrency: config.jobConcurrency },
    'ingest-batch': { ...jobOptions['ingest-batch'], concurrency: config.jobConcurrency },
  };
}
