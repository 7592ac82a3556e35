import type { Config } from './config.ts';
import { pruneAuditJob } from './core/audit/prune-audit.job.ts';
import { purgeSessionsJob } from './core/auth/purge-sessions.job.ts';
import { conversationTitleJob } from './core/bots/conversation-title.job.ts';
import { answerJob } from './core/bots/answer.job.ts';
import type { Database } from './core/db/database.ts';
import { jobOptions, type JobMap } from './core/jobs/job-map.ts';
import type { JobRunner, Processors } from './core/jobs/job-types.ts';
import { createOutboxRelay } from './core/jobs/outbox.ts';
import { ingestJobs } from './core/knowledge/ingest.job.ts';
import { refreshJobs } from './core/knowledge/sources/refresh.job.ts';
import type { Logger } from './core/logger.ts';
import { countConversationEvents } from './core/metrics/conversation-metrics.ts';
import { retentionJob } from './core/retention/retention.job.ts';
import { createDomain, type Domain } from './domain.ts';
import { closeInfrastructure, createJobs, openInfrastructure, type Infrastructure, type Services } from './services.ts';

/** What one process runs on, each piece built once: see `compose`. */
export interface Composition {
  services: Services;
  domain: Domain;
  /** The outbox relay, then job processing (running jobs get `deadlineMs`; they may still write), then parser threads, bus, database. */
  close(deadlineMs: number): Promise<void>;
}

/**
 * The composition root: every process role (all, server, worker), the CLIs and the tests build
 * their objects here, once each — infrastructure, the domain over it, the job processors over the
 * domain, and the runner that calls them. The domain writes jobs to the outbox (core/jobs/outbox.ts)
 * whose processors need the domain; the outbox's relay dispatches them through an enqueue handle
 * that is bound to the runner once the runner exists. Nothing is processed until the caller says
 * `services.jobs.startProcessing()`.
 *
 * The relay runs in every process: with BullMQ from here on (any process may hand jobs to Redis);
 * with the in-process runner from `startProcessing` on, since a job handed to a runner that never
 * processes (a CLI's) would be lost with the outbox row already deleted.
 */
export async function compose(
  config: Config,
  logger: Logger,
  options: { secret: string; db?: Database },
): Promise<Composition> {
  const infrastructure = await openInfrastructure(config, logger, options);
  try {
    const queue = boundLater<JobMap>();
    const outbox = createOutboxRelay({
      db: infrastructure.db,
      jobs: queue,
      options: jobOptions,
      logger: infrastructure.logger.child({ component: 'outbox' }),
    });
    const domain = createDomain(infrastructure, outbox, queue);
    const runner = createJobs(infrastructure, jobProcessors(infrastructure, domain), (event) => {
      // A job that has run is done with its outbox row (other processes' relays stop checking on it).
      if (event.state !== 'completed' && event.state !== 'failed') return;
      outbox.finished(event.name, event.jobId).catch((error: unknown) => {
        infrastructure.logger.warn({ err: error, job: event.name }, 'outbox row of a finished job not removed');
      });
    });
    queue.bind(runner);
    const jobs: JobRunner<JobMap> =
      runner.kind === 'bullmq'
        ? runner
        : {
            ...runner,
            async startProcessing() {
              await runner.startProcessing();
              outbox.start();
            },
          };
    if (runner.kind === 'bullmq') outbox.start();
    const stopCounting = countConversationEvents(infrastructure.bus, infrastructure.metrics);
    return {
      services: { ...infrastructure, jobs, outbox },
      domain,
      async close(deadlineMs) {
        stopCounting();
        await outbox.stop();
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
  domain: Pick<Domain, 'answers' | 'titler' | 'ingestion' | 'refresh' | 'files'>,
): Processors<JobMap> {
  return {
    answer: answerJob(domain),
    'title-conversation': conversationTitleJob(domain),
    ...ingestJobs(domain),
    ...refreshJobs(domain),
    'purge-sessions': purgeSessionsJob(services),
    'prune-audit': pruneAuditJob(services),
    retention: retentionJob({ ...services, files: domain.files }),
  };
}

type Dispatch<M> = Pick<JobRunner<M>, 'enqueue' | 'state' | 'schedule' | 'unschedule'>;

/** The relay's and the domain's handle on the runner (enqueue, look up a job, schedule), forwarding to the runner given to `bind`. */
function boundLater<M>(): Dispatch<M> & { bind(runner: Dispatch<M>): void } {
  let runner: Dispatch<M> | undefined;
  const unbound = (name: string) => new Error(`"${name}" dispatched before the job runner was built`);
  return {
    enqueue(name, payload, options) {
      if (!runner) return Promise.reject(unbound(name));
      return runner.enqueue(name, payload, options);
    },
    state(name, jobId) {
      if (!runner) return Promise.reject(unbound(name));
      return runner.state(name, jobId);
    },
    schedule(name, id, repeat, payload) {
      if (!runner) return Promise.reject(unbound(name));
      return runner.schedule(name, id, repeat, payload);
    },
    unschedule(name, id) {
      if (!runner) return Promise.reject(unbound(name));
      return runner.unschedule(name, id);
    },
    bind(target) {
      runner = target;
    },
  };
}
