import type { Express } from 'express';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { newUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';

/** The parts of a router 2.x layer this walk reads (Express's types do not declare `rawPath`). */
interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  rawPath?: unknown;
  handle: { stack?: Layer[] };
}

/** Every `method path` the app answers, walking into routers mounted with `app.use`. */
function registeredRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.push(`${method} ${prefix}${layer.route.path}`);
      } else if (layer.handle.stack) {
        if (typeof layer.rawPath !== 'string')
          throw new Error(`a router mounted on ${String(layer.rawPath)}: teach this walk about it`);
        walk(layer.handle.stack, prefix + layer.rawPath.replace(/\/$/, ''));
      }
    }
  };
  walk(app.router.stack as unknown as Layer[], '');
  // The web app's history fallback (there when web/dist is built) serves pages, not the API.
  return found.filter((route) => route !== 'get /{*splat}').sort();
}

interface Operation {
  'x-enclave-role': string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  requestBody?: { content: Record<string, { schema: any }> };
  responses: Record<string, unknown>;
}
type Paths = Record<string, Record<string, Operation>>;

const operations = (paths: Paths) =>
  Object.entries(paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({
      key: `${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
      path,
      op,
    })),
  );

async function fetchDocument(app: TestApp): Promise<{
  openapi: string;
  info: { version: string };
  paths: Paths;
  components: { schemas: Record<string, unknown> };
}> {
  const res = await request(app.url, 'GET', '/api/openapi.json');
  expect(res.status).toBe(200);
  return res.body;
}

/** Documented and registered are the same set, each with its declared access. */
async function expectDocumentMatchesApp(app: TestApp) {
  const documented = operations((await fetchDocument(app)).paths);
  expect(documented.map((o) => o.key).sort()).toEqual(registeredRoutes(app.express));
  for (const { key, path, op } of documented) {
    const declared = app.routes.find((r) => `${r.method} ${r.path}` === key);
    // Health and metrics live outside the secure routers, and are public.
    expect(op['x-enclave-role'], key).toBe(declared?.access ?? 'public');
    expect(op.security.length === 0, key).toBe(op['x-enclave-role'] === 'public');
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    expect(op.parameters?.filter((p) => p.in === 'path').map((p) => p.name) ?? [], key).toEqual(inPath);
    expect(Object.keys(op.responses), key).toContain('default');
  }
}

describe('the OpenAPI document', () => {
  let app: TestApp;
  // The document does not depend on the database backend.
  beforeAll(async () => {
    app = await startTestApp('pglite');
  });
  afterAll(() => app?.close());

  it('is served without signing in, as OpenAPI 3.1 with this build’s version and the common error shape', async () => {
    const res = await fetch(`${app.url}/api/openapi.json`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = await fetchDocument(app);
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
    expect(doc.components.schemas.Error).toMatchObject({
      required: ['error'],
      properties: { error: { required: ['code', 'message'] } },
    });
  });

  it('documents exactly the routes the app registers, with their roles and path parameters', async () => {
    await expectDocumentMatchesApp(app);
  });

  it('documents the single sign-on redirects when SSO is configured', async () => {
    // Discovery happens at the first sign-in, so no provider needs to be running.
    const sso = await startTestApp('pglite', {
      env: {
        OIDC_ISSUER: 'http://127.0.0.1:9/',
        OIDC_CLIENT_ID: 'enclave',
        OIDC_CLIENT_SECRET: 'enclave-client-secret-0123456789',
      },
    });
    try {
      await expectDocumentMatchesApp(sso);
      expect(Object.keys((await fetchDocument(sso)).paths)).toContain('/api/auth/oidc/callback');
    } finally {
      await sso.close();
    }
  });

  it('publishes the request schemas the routes validate with', async () => {
    const { paths } = await fetchDocument(app);
    const admin = await newUser(app, { role: 'admin' });

    const login = paths['/api/auth/login']!.post!.requestBody!.content['application/json']!.schema;
    expect(login.required).toEqual(['email', 'password']);
    expect(login.additionalProperties).toBe(false);
    const withoutPassword = await request(app.url, 'POST', '/api/auth/login', { body: { email: admin.email } });
    expect(withoutPassword.status).toBe(400);
    expect(withoutPassword.body.error.code).toBe('invalid_input');

    const bulk = paths['/api/collections/{id}/documents/bulk']!.post!;
    const documents = bulk.requestBody!.content['application/json']!.schema.properties.documents;
    expect(documents).toMatchObject({ type: 'array', minItems: 1, maxItems: 500 });
    expect(documents.items.anyOf.map((s: { required: string[] }) => s.required)).toEqual([
      ['title', 'text'],
      ['question', 'answer'],
    ]);
    expect(Object.keys(bulk.responses)).toEqual(expect.arrayContaining(['202', '200']));
    const tooMany = Array.from({ length: documents.maxItems + 1 }, (_, i) => ({ question: `q${i}`, answer: 'a' }));
    const refused = await request(app.url, 'POST', `/api/collections/${crypto.randomUUID()}/documents/bulk`, {
      token: admin.token,
      body: { documents: tooMany },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_input');

    // A query schema becomes optional query parameters with their bounds and defaults.
    const limit = paths['/api/users']!.get!.parameters!.find((p) => p.name === 'limit');
    expect(limit).toEqual({
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    });

    // Uploads are multipart; the OpenAI-compatible endpoint can answer as an event stream.
    expect(Object.keys(paths['/api/collections/{id}/documents']!.post!.requestBody!.content).sort()).toEqual([
      'application/json',
      'multipart/form-data',
    ]);
    expect(paths['/v1/chat/completions']!.post!.security).toEqual([{ bearer: [] }]);
    expect(
      Object.keys((paths['/v1/chat/completions']!.post!.responses['200'] as { content: object }).content),
    ).toContain('text/event-stream');
  });
});
