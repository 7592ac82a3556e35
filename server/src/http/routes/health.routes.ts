import { Router } from 'express';
import { pingDatabase } from '../../core/db/database.ts';
import type { Services } from '../../services.ts';
import { mayScrape, SCRAPE_REFUSED, serverExposition } from '../metrics-server.ts';

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

export function healthRoutes(services: Pick<Services, 'config' | 'db' | 'jobs' | 'bus' | 'metrics'>) {
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

  // With METRICS_PORT set, /metrics lives on that port only (main.ts) and this one answers 404.
  const { token, port } = services.config.metrics;
  const exposition = serverExposition(services);
  if (!port)
    router.get('/metrics', async (req, res) => {
      if (!mayScrape(req.headers.authorization, token)) {
        res.status(401).set('www-authenticate', 'Bearer').json(SCRAPE_REFUSED);
        return;
      }
      const { contentType, text } = await exposition();
      res.type(contentType).send(text);
    });

  return router;
}
