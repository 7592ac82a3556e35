import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compose } from '../../server/src/composition.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/core/logger.ts';
import type { Domain } from '../../server/src/domain.ts';
import type { RouteRecord } from '../../server/src/http/secure-router.ts';
import {
  createGateway,
  DEFAULT_GATEWAY_OPTIONS,
  type Gateway,
  type GatewayOptions,
} from '../../server/src/ws/gateway.ts';
import { createApp } from '../../server/src/http/app.ts';
import type { Services } from '../../server/src/services.ts';
import { createPostgresDatabase } from '../../server/src/core/db/postgres.ts';
import { createTestDatabase, type Backend, type TestDatabase } from './databases.ts';

export interface TestApp {
  url: string;
  services: Services;
  domain: Domain;
  gateway: Gateway;
  /** The `postgres://` URL of its database (Postgres backend only), for a second server over the same data. */
  databaseUrl?: string;
  /** Every declared API route with its access level. */
  routes: RouteRecord[];
  /** The Express application serving `url`, for tests that inspect what it registered. */
  express: Express;
  close(): Promise<void>;
}

/** Another server's database, opened again over its URL; closed (not dropped) with this server. */
function sharedDatabase(url: string): TestDatabase {
  const db = createPostgresDatabase(url, { max: 5 });
  return { db, url, dispose: () => db.close() };
}

/**
 * A real server on loopback over a fresh database of the given backend, with jobs processed
 * in-process (or by BullMQ when `redisUrl` is given). `env` overrides configuration variables.
 * `databaseUrl` (Postgres only, e.g. another TestApp's `databaseUrl`) starts a second server over
 * that existing database instead; the server that created it drops it, so close that one last.
 */
export async function startTestApp(
  backend: Backend,
  options: {
    env?: Record<string, string>;
    redisUrl?: string;
    port?: number;
    gateway?: Partial<GatewayOptions>;
    databaseUrl?: string;
    /** False: jobs are enqueued but wait until the test calls `services.jobs.startProcessing()`. */
    processJobs?: boolean;
  } = {},
): Promise<TestApp> {
  if (options.databaseUrl && backend !== 'postgres')
    throw new Error('Only the postgres backend can share a database between servers');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-app-'));
  const testDb = options.databaseUrl ? sharedDatabase(options.databaseUrl) : await createTestDatabase(backend);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.env,
  });
  const composition = await compose(config, createLogger(config.logLevel), {
    db: testDb.db,
    secret: 'test-secret-test-secret-test-secret-00',
  });
  const { services, domain } = composition;
  if (options.processJobs !== false) await services.jobs.startProcessing();
  const app = createApp(services, domain);
  const server = app.listen(options.port ?? 0, '127.0.0.1');
  const gateway = createGateway(services, domain, {
    ...DEFAULT_GATEWAY_OPTIONS,
    maxSocketsPerUser: config.wsMaxSocketsPerUser,
    ...options.gateway,
  });
  gateway.attach(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  domain.ownEndpoints.listening(port);
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    domain,
    gateway,
    ...(testDb.url ? { databaseUrl: testDb.url } : {}),
    routes: app.locals.routes as RouteRecord[],
    express: app,
    async close() {
      gateway.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await composition.close(2000).catch(() => {});
      await testDb.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
