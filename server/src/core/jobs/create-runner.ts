import { createBullmqRunner } from './bullmq-runner.ts';
import { createInProcessRunner } from './in-process-runner.ts';
import type { JobEvent, JobOptionsMap, JobRunner, Processors } from './job-types.ts';

/** BullMQ on Redis when a URL is given, otherwise the in-process runner: same processors either way. */
export function createJobRunner<M>(options: {
  redisUrl?: string;
  prefix?: string;
  jobs: JobOptionsMap<M>;
  processors: Processors<M>;
  onEvent?: (event: JobEvent) => void;
}): JobRunner<M> {
  const { redisUrl, prefix, ...rest } = options;
  return redisUrl ? createBullmqRunner({ redisUrl, prefix, ...rest }) : createInProcessRunner(rest);
}
