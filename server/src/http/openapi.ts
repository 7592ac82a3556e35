import { z } from 'zod';
import type { Access } from '../core/policy/policy.ts';
import { ENCLAVE_VERSION } from '../core/version.ts';
import { SESSION_COOKIE } from './middleware/authenticate.ts';
import { OPERATIONS, type OperationDoc } from './openapi-operations.ts';
import type { RouteRecord } from './secure-router.ts';

type JsonSchema = z.core.JSONSchema.JSONSchema;
/** Mounted outside the secure routers (health.routes.ts), so absent from their registry. */
const SERVICE_ROUTES: RouteRecord[] = [
  { method: 'get', path: '/healthz', access: 'public' },
  { method: 'get', path: '/readyz', access: 'public' },
  { method: 'get', path: '/metrics', access: 'public' },
];

const ACCESS: Record<Access, string> = {
  public: 'No sign-in needed.',
  user: 'Any signed-in user.',
  agent: 'Support agents and admins.',
  admin: 'Admins only.',
};

/** A request schema as clients send it: before defaults, coercions and transforms apply. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    // A type JSON cannot describe must fail the start, not vanish (query dates are ISO text: validate.ts `queryDate`).
    unrepresentable: 'throw',
  });
  return json;
}

function parameters(route: RouteRecord, doc: OperationDoc) {
  const path = [...route.path.matchAll(/:(\w+)/g)].map((match) => {
    const name = match[1]!;
    return { name, in: 'path', required: true, schema: doc.params?.[name] ?? { type: 'string', format: 'uuid' } };
  });
  if (!doc.query) return path;
  const query = jsonSchema(doc.query);
  const required = new Set(query.required ?? []);
  return [
    ...path,
    ...Object.entries(query.properties ?? {}).map(([name, schema]) => ({
      name,
      in: 'query',
      required: required.has(name),
      schema,
    })),
  ];
}

function requestBody(doc: OperationDoc) {
  const content: Record<string, { schema: JsonSchema }> = {};
  if (doc.upload) {
    content['multipart/form-data'] = {
      schema: {
        type: 'object',
        properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } },
        required: ['file'],
      },
    };
  }
  if (doc.body) content['application/json'] = { schema: jsonSchema(doc.body) };
  return Object.keys(content).length ? { required: true, content } : undefined;
}

function responses(doc: OperationDoc, error: { $ref: string }) {
  const media = Object.fromEntries((doc.produces ?? ['application/json']).map((type) => [type, {}]));
  const success = Object.entries(doc.responses).map(([status, description]) => {
    const empty = status === '204' || status.startsWith('3');
    return [status, empty ? { description } : { description, content: media }];
  });
  return { ...Object.fromEntries(success), default: error };
}

function operation(route: RouteRecord, doc: OperationDoc, tag: string) {
  const params = parameters(route, doc);
  const body = requestBody(doc);
  // The OpenAI-compatible API is for API tokens, and fails in OpenAI's error shape.
  const openAi = route.path.startsWith('/v1/');
  return {
    summary: doc.summary,
    description: [ACCESS[route.access], doc.description].filter(Boolean).join(' '),
    tags: [tag],
    'x-enclave-role': route.access,
    security: route.access === 'public' ? [] : openAi ? [{ bearer: [] }] : [{ session: [] }, { bearer: [] }],
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: responses(doc, { $ref: `#/components/responses/${openAi ? 'OpenAiError' : 'Error'}` }),
  };
}

const errorSchema = (fields: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required, properties: fields } },
});

const COMPONENTS = {
  securitySchemes: {
    session: {
      type: 'apiKey',
      in: 'cookie',
      name: SESSION_COOKIE,
      description: 'Set by sign-in. Writes that rely on it must come from the web app (Origin check).',
    },
    bearer: {
      type: 'http',
      scheme: 'bearer',
      description:
        'The `token` from POST /api/auth/login, or a personal API token from POST /api/tokens: scope `chat` for /v1, ' +
        '`api` for /api and /ws (403 `insufficient_scope` otherwise); no token may create tokens.',
    },
  },
  schemas: {
    Error: errorSchema({ code: { type: 'string' }, message: { type: 'string' }, details: {} }, ['code', 'message']),
    OpenAiError: errorSchema(
      {
        message: { type: 'string' },
        type: { type: 'string' },
        param: { type: ['string', 'null'] },
        code: { type: ['string', 'null'] },
      },
      ['message', 'type'],
    ),
  },
  responses: {
    Error: {
      description: 'A failure: 4xx for the request, 5xx for the server',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
    OpenAiError: {
      description: "A failure, in OpenAI's error shape",
      content: { 'application/json': { schema: { $ref: '#/components/schemas/OpenAiError' } } },
    },
  },
};

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, ReturnType<typeof operation>>>;
  components: typeof COMPONENTS;
}

/**
 * The document of the routes this server declared (`declared`, from the secure routers' registry),
 * built once at start. The table (openapi-operations.ts) must match them exactly, so a route added without its entry,
 * or an entry left behind by a removed route, stops the start instead of publishing a wrong document.
 */
export function openApiDocument(declared: readonly RouteRecord[], options: { sso: boolean }): OpenApiDocument {
  const entries = new Map(
    Object.entries(OPERATIONS).flatMap(([tag, ops]) =>
      Object.entries(ops)
        .filter(([, doc]) => options.sso || !doc.sso)
        .map(([key, doc]) => [key, { tag, doc }] as const),
    ),
  );
  const routes = [...SERVICE_ROUTES, ...declared];
  const keys = new Set(routes.map((r) => `${r.method} ${r.path}`));
  const undocumented = [...keys].filter((key) => !entries.has(key));
  const unregistered = [...entries.keys()].filter((key) => !keys.has(key));
  if (undocumented.length || unregistered.length) {
    throw new Error(
      `http/openapi-operations.ts is out of date. Undocumented routes: ${undocumented.join(', ') || 'none'}. Entries without a route: ${unregistered.join(', ') || 'none'}.`,
    );
  }

  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const { tag, doc } = entries.get(`${route.method} ${route.path}`)!;
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method]: operation(route, doc, tag) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Enclave',
      version: ENCLAVE_VERSION,
      description:
        'REST under /api (JSON, camelCase; lists are `{items, next}` paged by `?limit=&cursor=`), the OpenAI-compatible /v1, and the operational endpoints.',
    },
    paths,
    components: COMPONENTS,
  };
}
