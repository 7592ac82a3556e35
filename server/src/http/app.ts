import express from 'express';
import helmet from 'helmet';
import type { Services } from '../services.ts';
import { errorHandler, notFoundHandler } from './middleware/errors.ts';
import { requestContext } from './middleware/request-context.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { staticWeb } from './static-web.ts';

/** The Express application: middleware in a fixed order, one router per resource, errors last. */
export function createApp(services: Services) {
  const { config, logger, metrics } = services;
  const app = express();
  app.disable('x-powered-by');
  // Behind the bundled reverse proxy the client address comes from X-Forwarded-For (first hop only).
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');
  app.use(requestContext(logger, metrics));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          imgSrc: ["'self'", 'data:', 'blob:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          upgradeInsecureRequests: null,
        },
      },
    }),
  );
  app.use(express.json({ limit: config.bodyLimitBytes }));
  app.use(healthRoutes(services));
  app.use(staticWeb());
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
