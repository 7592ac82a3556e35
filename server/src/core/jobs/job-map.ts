import type { JobOptionsMap } from './job-types.ts';

/**
 * Every background job Enclave runs: name → payload. Payloads carry ids only; processors read the
 * current rows themselves, so a retried or late job never acts on stale data.
 */
export interface JobMap {
  /** Deletes expired and long-revoked sessions and idle sign-in counters. `period` (hours since epoch) makes one job per hour cluster-wide. */
  'purge-sessions': { period: number };
  /** Applies the audit retention (AUDIT_RETENTION_DAYS); `period` (days since epoch) makes one a day. */
  'prune-audit': { period: number };
}

export type JobName = keyof JobMap;

/** Job options decided in one place: de-duplication ids, retries, concurrency. */
export const jobOptions: JobOptionsMap<JobMap> = {
  'purge-sessions': {
    jobId: ({ period }) => `purge-sessions-${period}`,
    attempts: 3,
    backoffMs: 10_000,
    concurrency: 1,
  },
  'prune-audit': {
    jobId: ({ period }) => `prune-audit-${period}`,
    attempts: 3,
    backoffMs: 60_000,
    concurrency: 1,
  },
};
