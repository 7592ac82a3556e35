import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createProcessors } from '../../workers/src/processors.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/core/logger.ts';
import { createDomain, type Domain } from '../../server/src/domain.ts';
import type { RouteRecord } from '../../server/src/http/secure-router.ts';
import { createGateway, DEFAULT_GATEWAY_OPTIONS, type Gateway, type GatewayOptions } from '../../server/src/ws/gateway.ts';
import { createApp } from '../../server/src/http/app.ts';
import { closeServices, openServices, type Services } from '../../server/src/services.ts';
import { createTestDatabase, type Backend } from './databases.ts';

export interface TestApp {
  url: string;
  services: Services;
  domain: Domain;
  gateway: Gateway;
  /** Every declared API route with its access level. */
  routes: RouteRecord[];
  close(): Promise<void>;
}

/**
 * A real server on loopback over a fresh database of the given backend, with jobs processed
 * in-process (or by BullMQ when `redisUrl` is given). `env` overrides configuration variables.
 */
export async function startTestApp(
  backend: Backend,
  options: { env?: Record<string, string>; redisUrl?: string; port?: number; gateway?: Partial<GatewayOptions> } = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-app-'));
  const testDb = await createTestDatabase(backend);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.env,
  });
  const services = await openServices(config, createLogger(config.logLevel), createProcessors, {
    db: testDb.db,
    secret: 'test-secret-test-secret-test-secret-00',
  });
  await services.jobs.startProcessing();
  const domain = createDomain(services);
  const app = createApp(services, domain);
  const server = app.listen(options.port ?? 0, '127.0.0.1');
  const gateway = createGateway(services, domain, { ...DEFAULT_GATEWAY_OPTIONS, ...options.gateway });
  gateway.attach(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    services,
    domain,
    gateway,
    routes: app.locals.routes as RouteRecord[],
    async close() {
      gateway.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await closeServices(services, 2000).catch(() => {});
      await testDb.dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
