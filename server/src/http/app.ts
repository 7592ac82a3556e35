import cookieParser from 'cookie-parser';
import express from 'express';
import helmet from 'helmet';
import type { Domain } from '../domain.ts';
import type { Services } from '../services.ts';
import { authenticate, originCheck } from './middleware/authenticate.ts';
import { errorHandler, notFoundHandler } from './middleware/errors.ts';
import { requestContext } from './middleware/request-context.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { assistRoutes } from './routes/assist.routes.ts';
import { gapsRoutes } from './routes/gaps.routes.ts';
import { attachmentRoutes } from './routes/attachments.routes.ts';
import { organisationRoutes } from './routes/organisation.routes.ts';
import { cannedReplyRoutes } from './routes/canned-replies.routes.ts';
import { peopleRoutes } from './routes/people.routes.ts';
import { botRoutes } from './routes/bots.routes.ts';
import { openAiErrors, v1Routes } from './routes/v1.routes.ts';
import { collectionRoutes } from './routes/collections.routes.ts';
import { documentRoutes } from './routes/documents.routes.ts';
import { sourceRoutes } from './routes/sources.routes.ts';
import { searchRoutes } from './routes/search.routes.ts';
import { conversationRoutes } from './routes/conversations.routes.ts';
import { authRoutes } from './routes/auth.routes.ts';
import { groupRoutes } from './routes/groups.routes.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { oidcRoutes } from './routes/oidc.routes.ts';
import { openApiRoutes } from './routes/openapi.routes.ts';
import { userRoutes } from './routes/users.routes.ts';
import { createSecureRouter, type RouteRecord } from './secure-router.ts';
import { staticWeb } from './static-web.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Rejects bodies that are not valid UTF-8 instead of silently storing replacement characters. */
function verifyUtf8(_req: unknown, _res: unknown, buf: Buffer) {
  try {
    utf8.decode(buf);
  } catch {
    throw Object.assign(new Error('The request body is not valid UTF-8'), {
      status: 400,
      type: 'encoding.invalid',
      expose: true,
    });
  }
}

/** The Express application: middleware in a fixed order, one router per resource, errors last. */
export function createApp(services: Services, domain: Domain) {
  const { config, logger, metrics } = services;
  const app = express();
  const routes: RouteRecord[] = [];
  app.locals.routes = routes;
  app.disable('x-powered-by');
  // Behind a trusted reverse proxy (TRUST_PROXY, loopback by default) the client address comes
  // from X-Forwarded-For; any other peer is the client itself and cannot name another address.
  app.set('trust proxy', config.trustProxy);
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
  app.use(express.json({ limit: config.bodyLimitBytes, verify: verifyUtf8 }));
  app.use(cookieParser());
  app.use(healthRoutes(services));
  app.use(authenticate(domain.auth));
  app.use(originCheck(config.publicUrl));

  const api = createSecureRouter(routes, 'api');
  authRoutes(api, services, domain.auth);
  if (domain.oidc) oidcRoutes(api, services, domain.oidc);
  userRoutes(api, domain.users);
  groupRoutes(api, domain.users);
  auditRoutes(api, domain.audit);
  collectionRoutes(api, domain.knowledge);
  documentRoutes(api, domain.knowledge, { maxUploadBytes: config.knowledge.maxUploadBytes });
  sourceRoutes(api, domain.sources);
  searchRoutes(api, domain.retrieval);
  conversationRoutes(api, domain);
  botRoutes(api, domain.bots);
  attachmentRoutes(api, domain.attachments, config.attachmentMaxBytes);
  peopleRoutes(api, domain.people);
  organisationRoutes(api, domain.organisation);
  cannedReplyRoutes(api, domain.cannedReplies);
  assistRoutes(api, domain);
  gapsRoutes(api, domain);
  app.use(api.router);

  // The OpenAI-compatible API answers errors (including unknown paths) the way OpenAI clients expect.
  const v1 = createSecureRouter(routes, 'chat');
  v1Routes(v1, domain.completions, config.v1RatePerMinute);
  app.use(v1.router);
  app.use('/v1', notFoundHandler, openAiErrors);
  // Declared last because the document describes every route above; the api router is already
  // mounted, and a route added to it later still matches.
  openApiRoutes(api, routes, { sso: Boolean(domain.oidc) });

  app.use(staticWeb());
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
