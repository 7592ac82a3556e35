import { openApiDocument } from '../openapi.ts';
import type { RouteRecord, SecureRouter } from '../secure-router.ts';

/**
 * `GET /api/openapi.json`. Declare it after every other route: the document is built here, once,
 * from the routes declared so far (and this one).
 */
export function openApiRoutes(r: SecureRouter, declared: readonly RouteRecord[], options: { sso: boolean }) {
  const self: RouteRecord = { method: 'get', path: '/api/openapi.json', access: 'public' };
  const json = JSON.stringify(openApiDocument([...declared, self], options));
  r.get(self.path, self.access, (_req, res) => {
    res.type('json').send(json);
  });
}
