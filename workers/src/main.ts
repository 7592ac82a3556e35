import { compose } from '../../server/src/composition.ts';
import { ConfigError, loadConfig } from '../../server/src/config.ts';
import { resolveSessionSecret } from '../../server/src/core/crypto/secret.ts';
import { resumePendingIngestion } from '../../server/src/core/knowledge/knowledge.module.ts';
import { createLogger } from '../../server/src/core/logger.ts';
import { startMetricsServer } from '../../server/src/http/metrics-server.ts';

/** `npm run worker`: processes BullMQ jobs in its own process (production; needs REDIS_URL). */
async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { role: 'worker' });
  if (!config.redisUrl) {
    throw new ConfigError([
      'REDIS_URL: required by `npm run worker` (without Redis, `npm start` processes jobs in-process)',
    ]);
  }
  const secret = await resolveSessionSecret(config.sessionSecret, config.dataDir);
  const composition = await compose(config, logger, { secret });
  const { services } = composition;
  await services.jobs.startProcessing();
  await resumePendingIngestion(services.db, services.jobs, logger);
  const metricsServer = config.workerMetricsPort
    ? await startMetricsServer({
        port: config.workerMetricsPort,
        host: config.host,
        token: config.metrics.token,
        render: async () => ({
          contentType: services.metrics.registry.contentType,
          text: await services.metrics.registry.metrics(),
        }),
      })
    : undefined;
  logger.info({ database: services.db.kind, metricsPort: config.workerMetricsPort || null }, 'worker ready');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker shutting down');
    metricsServer?.close();
    // Running jobs get the deadline to finish; unfinished ones are retried by another worker.
    await composition.close(config.shutdownTimeoutMs);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    error instanceof ConfigError
      ? `${error.message}\nThe worker did not start.\n`
      : `Worker failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
