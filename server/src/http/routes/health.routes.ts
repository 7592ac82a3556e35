import { Router } from 'express';
import { pingDatabase } from '../../core/db/database.ts';
import { jobOptions, type JobName } from '../../core/jobs/job-map.ts';
import { collectScrapeTimeMetrics } from '../../core/metrics/scrape-time.ts';
import type { Services } from '../../services.ts';

const CHECK_TIMEOUT_MS = 2000;

async function check(fn: () => Promise<unknown>): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS))),
    ]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(services: Pick<Services, 'db' | 'jobs' | 'bus' | 'metrics'>) {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const [database, queue, realtime] = await Promise.all([
      check(() => pingDatabase(services.db)),
      check(() => services.jobs.ping()),
      check(() => services.bus.ping()),
    ]);
    const checks = { database, queue, realtime };
    const ready = Object.values(checks).every((v) => v === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });

  router.get('/metrics', async (_req, res) => {
    const { metrics, jobs, db } = services;
    await collectScrapeTimeMetrics(metrics, { db, jobs, jobNames: Object.keys(jobOptions) as JobName[] });
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  return router;
}
