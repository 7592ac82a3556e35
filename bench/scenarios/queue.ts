import { Redis } from 'ioredis';
import { createBullmqRunner } from '../../server/src/core/jobs/bullmq-runner.ts';
import { createInProcessRunner } from '../../server/src/core/jobs/in-process-runner.ts';
import type { JobRunner } from '../../server/src/core/jobs/job-types.ts';
import { machineInfo, type Row, type ScenarioResult } from '../lib/report.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { summarize } from '../lib/stats.ts';

/**
 * The job queue under answers and ingestion: add → start latency (one job at a time) and no-op
 * jobs/s (adds from 16 producers, a worker at concurrency 16 — the answer job's), for the runner
 * the backend uses (BullMQ on Redis; in-process when embedded) and the other one for comparison.
 * Baseline: a Redis round trip (PING) for BullMQ, a setImmediate hop for the in-process runner.
 */
interface NoopJobs {
  noop: { i: number; run: string };
}

function settings(quick: boolean) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  return quick
    ? { latencyJobs: env('BENCH_QUEUE_LATENCY_JOBS', 50), throughputJobs: env('BENCH_QUEUE_JOBS', 500) }
    : { latencyJobs: env('BENCH_QUEUE_LATENCY_JOBS', 500), throughputJobs: env('BENCH_QUEUE_JOBS', 5000) };
}

async function measure(
  make: (onStart: (i: number) => void) => JobRunner<NoopJobs>,
  s: ReturnType<typeof settings>,
  run: string,
) {
  const started = new Map<number, (t: number) => void>();
  let completed = 0;
  let allDone: (() => void) | undefined;
  let target = Infinity;
  const runner = make((i) => {
    started.get(i)?.(performance.now());
  });
  const onDone = () => {
    completed += 1;
    if (completed >= target) allDone?.();
  };
  (runner as unknown as { onDone: () => void }).onDone = onDone;
  await runner.startProcessing();
  const latencies: number[] = [];
  let i = 0;
  for (; i < s.latencyJobs; i++) {
    const t0 = performance.now();
    const begun = new Promise<number>((resolve) => started.set(i, resolve));
    await runner.enqueue('noop', { i, run });
    latencies.push((await begun) - t0);
    started.delete(i);
  }
  // Throughput: every job added by 16 producers and finished by the worker.
  completed = 0;
  target = s.throughputJobs;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const t0 = performance.now();
  let next = i;
  const last = i + s.throughputJobs;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < last) await runner.enqueue('noop', { i: next++, run });
    }),
  );
  const addSeconds = (performance.now() - t0) / 1000;
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await runner.close(5000);
  return {
    latency: summarize(latencies),
    jobsPerSecond: s.throughputJobs / seconds,
    addsPerSecond: s.throughputJobs / addSeconds,
  };
}

function runnerFactory(kind: 'bullmq' | 'in-process', redisUrl: string | undefined, prefix: string) {
  return (onStart: (i: number) => void) => {
    let self: { onDone?: () => void } = {};
    const options = {
      jobs: {
        noop: {
          jobId: ({ i, run }: NoopJobs['noop']) => `noop-${run}-${i}`,
          attempts: 1,
          backoffMs: 1000,
          concurrency: 16,
        },
      },
      processors: {
        noop: async ({ i }: NoopJobs['noop']) => {
          onStart(i);
        },
      },
      onEvent: (e: { state: string }) => {
        if (e.state === 'completed') self.onDone?.();
      },
    };
    const runner =
      kind === 'bullmq'
        ? createBullmqRunner<NoopJobs>({ redisUrl: redisUrl!, prefix, ...options })
        : createInProcessRunner<NoopJobs>(options);
    self = runner as unknown as typeof self;
    return runner;
  };
}

export const queue: Scenario = {
  name: 'queue',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const { deployment, log } = ctx;
    const s = settings(ctx.quick);
    const redisUrl = deployment.redisUrl;
    const prefix = deployment.redisPrefix ?? 'enclave-bench-queue';
    const rows: Row[] = [];
    const details: Record<string, unknown> = { settings: s };

    // Baselines: a Redis round trip; a setImmediate hop.
    const hop: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await new Promise((resolve) => setImmediate(resolve));
      hop.push(performance.now() - t);
    }
    const hopS = summarize(hop);
    log('  in-process runner…');
    const inProcess = await measure(runnerFactory('in-process', undefined, prefix), s, `ip${Date.now()}`);
    details.inProcess = inProcess;
    rows.push(
      {
        metric: 'in-process add→start p50',
        value: inProcess.latency.p50,
        unit: 'ms',
        baseline: hopS.p50,
        ratio: inProcess.latency.p50 / hopS.p50,
      },
      {
        metric: 'in-process add→start p99',
        value: inProcess.latency.p99,
        unit: 'ms',
        baseline: hopS.p99,
        ratio: inProcess.latency.p99 / hopS.p99,
      },
      { metric: 'in-process no-op jobs/s', value: inProcess.jobsPerSecond, unit: '/s' },
    );
    if (redisUrl) {
      const redis = new Redis(redisUrl);
      const rtt: number[] = [];
      for (let i = 0; i < 300; i++) {
        const t = performance.now();
        await redis.ping();
        rtt.push(performance.now() - t);
      }
      await redis.quit();
      const rttS = summarize(rtt);
      log('  BullMQ runner…');
      const bull = await measure(runnerFactory('bullmq', redisUrl, prefix), s, `bq${Date.now()}`);
      details.bullmq = bull;
      details.redisPing = rttS;
      rows.unshift(
        {
          metric: 'BullMQ add→start p50',
          value: bull.latency.p50,
          unit: 'ms',
          baseline: rttS.p50,
          ratio: bull.latency.p50 / rttS.p50,
          note: 'baseline: Redis PING round trip',
        },
        {
          metric: 'BullMQ add→start p99',
          value: bull.latency.p99,
          unit: 'ms',
          baseline: rttS.p99,
          ratio: bull.latency.p99 / rttS.p99,
        },
        {
          metric: 'BullMQ no-op jobs/s (16 producers)',
          value: bull.jobsPerSecond,
          unit: '/s',
          baseline: inProcess.jobsPerSecond,
          ratio: bull.jobsPerSecond / inProcess.jobsPerSecond,
          note: 'baseline: the in-process runner',
        },
        { metric: 'BullMQ adds/s', value: bull.addsPerSecond, unit: '/s' },
      );
    }
    return {
      scenario: 'queue',
      backend: deployment.backend,
      quick: ctx.quick,
      baseline: redisUrl
        ? 'Redis PING round trip (latency), the in-process runner (throughput)'
        : 'a setImmediate hop (the in-process runner has no I/O)',
      rows,
      stages: redisUrl
        ? {
            'BullMQ add→start p50 (ms)': (details.bullmq as { latency: { p50: number } }).latency.p50,
            'in-process add→start p50 (ms)': inProcess.latency.p50,
          }
        : { 'in-process add→start p50 (ms)': inProcess.latency.p50 },
      slowestStage: redisUrl
        ? 'BullMQ: the worker picking the job up (blocking move from wait to active, then the lock) after the add'
        : 'in-process: none — the job starts on the next tick',
      details,
      machine: machineInfo(),
    };
  },
};
