import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { jobOptions, type JobName } from '../core/jobs/job-map.ts';
import { collectScrapeTimeMetrics } from '../core/metrics/scrape-time.ts';
import type { Services } from '../services.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * True when no token is configured, or the request's `Authorization: Bearer …` carries it. Compared
 * as digests in constant time, so neither the token's length nor its prefix leaks through timing.
 */
export function mayScrape(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const match = /^Bearer (.+)$/i.exec(authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

export interface Exposition {
  contentType: string;
  text: string;
}

/** What a server's /metrics shows: its registry, with the gauges read from the database and queue at scrape time. */
export function serverExposition(services: Pick<Services, 'db' | 'jobs' | 'metrics'>): () => Promise<Exposition> {
  const { metrics, jobs, db } = services;
  return async () => {
    await collectScrapeTimeMetrics(metrics, { db, jobs, jobNames: Object.keys(jobOptions) as JobName[] });
    return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() };
  };
}

export const SCRAPE_REFUSED = {
  error: { code: 'unauthorized', message: 'This /metrics needs Authorization: Bearer <METRICS_TOKEN>' },
};

/**
 * /metrics (and /healthz for probes) on a port of its own: a worker's (job outcomes, model tokens
 * and latency), or the server's when METRICS_PORT keeps scrapes off the port users reach.
 */
export async function startMetricsServer(options: {
  port: number;
  host: string;
  token: string | undefined;
  render: () => Promise<Exposition>;
}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok"}');
      return;
    }
    if (path !== '/metrics' || req.method !== 'GET') {
      res.statusCode = 404;
      res.end();
      return;
    }
    if (!mayScrape(req.headers.authorization, options.token)) {
      res.statusCode = 401;
      res.setHeader('content-type', 'application/json');
      res.setHeader('www-authenticate', 'Bearer');
      res.end(JSON.stringify(SCRAPE_REFUSED));
      return;
    }
    options.render().then(
      ({ contentType, text }) => {
        res.setHeader('content-type', contentType);
        res.end(text);
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return server;
}
