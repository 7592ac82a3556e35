import type { Server } from 'node:http';
import { compose } from './composition.ts';
import { ConfigError, loadConfig } from './config.ts';
import { resolveSessionSecret } from './core/crypto/secret.ts';
import { resumePendingIngestion } from './core/knowledge/knowledge.module.ts';
import { createLogger } from './core/logger.ts';
import { ensureFirstAdmin } from './core/users/first-admin.ts';
import { createApp } from './http/app.ts';
import { serverExposition, startMetricsServer } from './http/metrics-server.ts';
import { createGateway, DEFAULT_GATEWAY_OPTIONS } from './ws/gateway.ts';
import { schedulePeriodicJobs } from './periodic-jobs.ts';

/**
 * Process roles: `all` (the embedded default: HTTP + WebSocket + job processing in one process)
 * and `server` (HTTP + WebSocket only; `npm run worker` processes jobs).
 */
type Role = 'all' | 'server';

async function main(role: Role) {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { role });
  const started = Date.now();
  const secret = await resolveSessionSecret(config.sessionSecret, config.dataDir);
  const composition = await compose(config, logger, { secret });
  const { services, domain } = composition;

  const admin = await ensureFirstAdmin(services.db, config.admin);
  if (admin.created && admin.generatedPassword) {
    // Printed once, to the terminal, never logged as JSON: it is not stored anywhere in clear.
    process.stdout.write(
      `\n  First admin created: ${admin.email}\n  Password (shown once, change it after signing in): ${admin.generatedPassword}\n\n`,
    );
  } else if (admin.created) {
    logger.info({ email: admin.email }, 'first admin created from ADMIN_EMAIL/ADMIN_PASSWORD');
  }

  if (role === 'all') await services.jobs.startProcessing();
  // Ingestion left unfinished by a crash or restart (in-process jobs live in memory) resumes.
  await resumePendingIngestion(services.db, services.jobs, logger);
  const stopPeriodic = schedulePeriodicJobs(services.jobs, logger);
  // Sources' refresh schedules into the runner (in-process timers do not outlive a process; BullMQ's are upserted).
  await domain.sources.syncSchedules();

  const app = createApp(services, domain);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const metricsServer = config.metrics.port
    ? await startMetricsServer({
        port: config.metrics.port,
        host: config.host,
        token: config.metrics.token,
        render: serverExposition(services),
      })
    : undefined;
  const gateway = createGateway(services, domain, {
    ...DEFAULT_GATEWAY_OPTIONS,
    maxSocketsPerUser: config.wsMaxSocketsPerUser,
  });
  gateway.attach(server);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  domain.ownEndpoints.listening(port);
  const url =
    config.publicUrl ??
    `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  logger.info(
    {
      url,
      database: services.db.kind,
      jobs: services.jobs.kind,
      realtime: services.bus.kind,
      startupMs: Date.now() - started,
    },
    'Enclave is ready',
  );
  if (process.stdout.isTTY) process.stdout.write(`\n  Enclave is running at ${url}\n\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000);
    deadline.unref();
    stopPeriodic();
    // Sockets are told the server is restarting; clients reconnect to another instance and resume.
    gateway.close();
    metricsServer?.close();
    // 1. stop accepting; 2. let in-flight requests finish (idle keep-alive sockets closed now);
    // 3. close workers, then Redis and the database.
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.race([drained, new Promise((r) => setTimeout(r, config.shutdownTimeoutMs / 2))]);
    server.closeAllConnections();
    await composition.close(config.shutdownTimeoutMs / 2);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

const role = (process.argv[2] ?? 'all') as Role;
if (role !== 'all' && role !== 'server') {
  process.stderr.write(`Unknown role "${role}": use "all" or "server" (jobs run with \`npm run worker\`).\n`);
  process.exit(2);
}
main(role).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(
      `${error.message}\nEnclave did not start. Fix the variables above (see README, "Environment").\n`,
    );
  } else {
    process.stderr.write(
      `Enclave failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
