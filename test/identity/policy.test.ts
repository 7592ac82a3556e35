import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteRecord } from '../../server/src/http/secure-router.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { expectError } from './helpers.ts';

/** A concrete URL for a declared route: every `:param` becomes a random UUID, optional `{…}` parts are dropped. */
function concrete(path: string): string {
  return path
    .replace(/\{[^}]*\}/g, '')
    .replace(/:[A-Za-z_][A-Za-z0-9_]*/g, () => randomUUID())
    .replace(/\*[A-Za-z_]*/g, 'x');
}

// The organisation's name and logo are what the sign-in page shows before anyone signs in.
const PUBLIC_API = [
  /^\/api\/auth\/login$/,
  /^\/api\/auth\/config$/,
  /^\/api\/auth\/oidc\//,
  /^\/api\/openapi\.json$/,
  /^\/api\/organisation(\/logo)?$/,
];

describe.each(backends)('policy: every declared route enforces its access level on %s', (backend) => {
  let app: TestApp;
  let employee: TestUser;
  let agent: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    [employee, agent] = await Promise.all([newUser(app), newUser(app, { role: 'agent' })]);
  });
  afterAll(() => app?.close());

  const call = (route: RouteRecord, token?: string) =>
    request(app.url, route.method.toUpperCase(), concrete(route.path), {
      ...(token ? { token } : {}),
      ...(route.method === 'get' ? {} : { body: {} }),
    });
  const label = (route: RouteRecord) => `${route.method.toUpperCase()} ${route.path} (${route.access})`;

  it('declares the identity routes', () => {
    const declared = app.routes.map((r) => `${r.method} ${r.path}`);
    for (const route of [
      'post /api/auth/login',
      'post /api/auth/logout',
      'get /api/me',
      'get /api/auth/sessions',
      'delete /api/auth/sessions/:id',
      'post /api/tokens',
      'get /api/tokens',
      'delete /api/tokens/:id',
      'post /api/users',
      'get /api/users',
      'patch /api/users/:id',
      'post /api/groups',
      'put /api/groups/:id/members/:userId',
      'get /api/admin/audit',
      'get /api/admin/audit/verify',
    ]) {
      expect(declared).toContain(route);
    }
  });

  it("leaves nothing under /api/ (or /v1/) public except sign-in, its configuration, the SSO redirects, the organisation's name and logo and the OpenAPI document", () => {
    const open = app.routes.filter((r) => /^\/(api|v1)\//.test(r.path) && r.access === 'public').map((r) => r.path);
    expect(open.filter((path) => !PUBLIC_API.some((allowed) => allowed.test(path)))).toEqual([]);
  });

  it('answers 401 without credentials and 403 to an employee on every admin route', async () => {
    const admin = app.routes.filter((r) => r.access === 'admin');
    expect(admin.length).toBeGreaterThanOrEqual(10);
    for (const route of admin) {
      const anonymous = await call(route);
      expect(anonymous.status, label(route)).toBe(401);
      expectError(anonymous, 401, 'unauthorized');
      const asEmployee = await call(route, employee.token);
      expect(asEmployee.status, label(route)).toBe(403);
      expectError(asEmployee, 403, 'forbidden');
      const asAgent = await call(route, agent.token);
      expect(asAgent.status, label(route)).toBe(403);
    }
  });

  it('answers 401 without credentials and 403 to an employee on every agent route', async () => {
    for (const route of app.routes.filter((r) => r.access === 'agent')) {
      expect((await call(route)).status, label(route)).toBe(401);
      const asEmployee = await call(route, employee.token);
      expect(asEmployee.status, label(route)).toBe(403);
      expectError(asEmployee, 403, 'forbidden');
    }
  });

  it('answers 401 without credentials, or with a revoked or made-up one, on every signed-in route', async () => {
    const routes = app.routes.filter((r) => r.access === 'user');
    expect(routes.length).toBeGreaterThanOrEqual(6);
    for (const route of routes) {
      const anonymous = await call(route);
      // The OpenAI-compatible API answers in OpenAI's error shape; everything else in ours.
      if (route.path.startsWith('/v1/')) expect(anonymous.status, label(route)).toBe(401);
      else expectError(anonymous, 401, 'unauthorized');
      expect((await call(route, `ens_${'A'.repeat(43)}`)).status, label(route)).toBe(401);
      expect((await call(route, `enp_${'A'.repeat(43)}`)).status, label(route)).toBe(401);
    }
  });
});

describe('policy: who may read knowledge is written once', () => {
  it('leaves group-based read checks to core/policy/read-rules.sql.ts, which every reading query uses', async () => {
    const root = new URL('../../server/src/', import.meta.url);
    const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.ts'));
    const spelling: string[] = [];
    for (const file of files) {
      const source = await readFile(new URL(file, root), 'utf8');
      // A membership check joins the reader's groups to a collection's or a document's.
      if (/\buser_groups\b/.test(source) && /\b(collection|document)_groups\b/.test(source)) spelling.push(file);
    }
    expect(spelling).toEqual(['core/policy/read-rules.sql.ts']);
  });
});
