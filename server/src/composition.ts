import type { Config } from './config.ts';
import { pruneAuditJob } from './core/audit/prune-audit.job.ts';
import { purgeSessionsJob } from './core/auth/purge-sessions.job.ts';
import { answerJob } from './core/bots/answer.job.ts';
import type { Database } from './core/db/database.ts';
import type { JobMap } from './core/jobs/job-map.ts';
import type { JobQueue, Processors } from './core/jobs/job-types.ts';
import { ingestJobs } from './core/knowledge/ingest.job.ts';
import type { Logger } from './core/logger.ts';
import { countConversationEvents } from './core/metrics/conversation-metrics.ts';
import { retentionJob } from './core/retention/retention.job.ts';
import { createDomain, type Domain } from './domain.ts';
import { closeInfrastructure, createJobs, openInfrastructure, type Infrastructure, type Services } from './services.ts';

/** What one process runs on, each piece built once: see `compose`. */
export interface Composition {
  services: Services;
  domain: Domain;
  /** Job processing first (running jobs get `deadlineMs`; they may still write), then parser threads, bus, database. */
  close(deadlineMs: number): Promise<void>;
}

/**
 * The composition root: every process role (all, server, worker), the CLIs and the tests build
 * their objects here, once each — infrastructure, the domain over it, the job processors over the
 * domain, and the runner that calls them. The domain enqueues jobs whose processors need the
 * domain, so it gets an enqueue handle that is bound to the runner once the runner exists.
 * Nothing is processed until the caller says `services.jobs.startProcessing()`.
 */
export async function compose(
  config: Config,
  logger: Logger,
  options: { secret: string; db?: Database },
): Promise<Composition> {
  const infrastructure = await openInfrastructure(config, logger, options);
  try {
    const queue = boundLater<JobMap>();
    const domain = createDomain(infrastructure, queue);
    const jobs = createJobs(infrastructure, jobProcessors(infrastructure, domain));
    queue.bind(jobs);
    const stopCounting = countConversationEvents(infrastructure.bus, infrastructure.metrics);
    return {
      services: { ...infrastructure, jobs },
      domain,
      async close(deadlineMs) {
        stopCounting();
        await jobs.close(deadlineMs);
        await domain.parser.close();
        await closeInfrastructure(infrastructure);
      },
    };
  } catch (error) {
    await closeInfrastructure(infrastructure).catch(() => {});
    throw error;
  }
}

/** Every job's processor, over the domain that does the work. The same map runs under BullMQ or in-process. */
export function jobProcessors(
  services: Pick<Infrastructure, 'config' | 'db' | 'logger'>,
  domain: Pick<Domain, 'answers' | 'ingestion' | 'files'>,
): Processors<JobMap> {
  return {
    answer: answerJob(domain),
    ...ingestJobs(domain),
    'purge-sessions': purgeSessionsJob(services),
    'prune-audit': pruneAuditJob(services),
    retention: retentionJob({ ...services, files: domain.files }),
  };
}

/** An enqueue handle that forwards to the runner given to `bind`. */
function boundLater<M>(): JobQueue<M> & { bind(runner: JobQueue<M>): void } {
  let runner: JobQueue<M> | undefined;
  return {
    enqueue(name, payload, options) {
      if (!runner) return Promise.reject(new Error(`"${name}" enqueued before the job runner was built`));
      return runner.enqueue(name, payload, options);
    },
    bind(target) {
      runner = target;
    },
  };
}
