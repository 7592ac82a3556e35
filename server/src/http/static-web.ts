import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

// Paths the single-page app must never shadow: an unknown API path is a JSON 404, not index.html.
const API_PREFIXES = ['/api/', '/v1/', '/ws', '/healthz', '/readyz', '/metrics'];

/** Serves the built Vue app (web/dist) with a history-mode fallback to index.html. */
export function staticWeb(dir = WEB_DIST) {
  const router = Router();
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) return router;
  // Hashed asset names can be cached for good; index.html must be revalidated so deploys take effect.
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }),
  );
  router.use(express.static(dir, { index: false }));
  router.get('/{*splat}', (req, res, next) => {
    if (API_PREFIXES.some((p) => req.path.startsWith(p))) return next();
    if (!req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
