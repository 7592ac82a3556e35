import { z } from 'zod';
import type { Access } from '../core/policy/policy.ts';
import { ENCLAVE_VERSION } from '../core/version.ts';
import { SESSION_COOKIE } from './middleware/authenticate.ts';
import * as assist from './routes/assist.routes.ts';
import * as audit from './routes/audit.routes.ts';
import * as auth from './routes/auth.routes.ts';
import * as bots from './routes/bots.routes.ts';
import * as collections from './routes/collections.routes.ts';
import * as conversations from './routes/conversations.routes.ts';
import * as documents from './routes/documents.routes.ts';
import * as groups from './routes/groups.routes.ts';
import * as people from './routes/people.routes.ts';
import * as search from './routes/search.routes.ts';
import * as users from './routes/users.routes.ts';
import * as v1 from './routes/v1.routes.ts';
import type { RouteRecord } from './secure-router.ts';
import { pageQuery } from './validate.ts';

type JsonSchema = z.core.JSONSchema.JSONSchema;
type RouteKey = `${RouteRecord['method']} ${string}`;

/** What a route's declaration does not say: what it is for, what it reads and what it answers. */
interface OperationDoc {
  summary: string;
  description?: string;
  /** The zod schema the handler parses the JSON body with. */
  body?: z.ZodType;
  /** Takes a multipart/form-data body with one `file` field (besides `body`, when both are given). */
  upload?: true;
  /** The zod schema the handler parses the query string with. */
  query?: z.ZodType;
  /** Path parameters that are not UUIDs. */
  params?: Record<string, JsonSchema>;
  /** Success statuses and what each means. */
  responses: Record<number, string>;
  /** Media types of a success body (JSON when not given). */
  produces?: string[];
  /** Registered only when single sign-on is configured. */
  sso?: true;
}

const MESSAGE_ID: Record<string, JsonSchema> = {
  id: { type: 'integer', minimum: 1, description: 'message id (ids order a conversation)' },
};
const FILE = ['*/*'];

/** Every HTTP route of the server, by tag. The access level comes from the route's declaration. */
const OPERATIONS: Record<string, Record<RouteKey, OperationDoc>> = {
  operations: {
    'get /healthz': { summary: 'Liveness', responses: { 200: '`{status: "ok"}`' } },
    'get /readyz': {
      summary: 'Readiness: database, queue and realtime bus',
      responses: {
        200: '`{status: "ready", checks}`',
        503: '`{status: "unavailable", checks}` naming the failing check',
      },
    },
    'get /metrics': {
      summary: 'Prometheus metrics',
      description: 'For the scraper; restrict it at the proxy.',
      responses: { 200: 'Prometheus text format' },
      produces: ['text/plain'],
    },
    'get /api/openapi.json': { summary: 'This OpenAPI document', responses: { 200: 'OpenAPI 3.1 document' } },
  },
  auth: {
    'post /api/auth/login': {
      summary: 'Sign in with email and password',
      description: 'Repeated failures answer 429 with Retry-After.',
      body: auth.loginSchema,
      responses: { 200: '`{token, user}`; also sets the session cookie' },
    },
    'get /api/auth/config': {
      summary: 'What the sign-in page offers (SSO or not)',
      responses: { 200: '`{sso: {enabled, loginUrl?}}`' },
    },
    'get /api/auth/oidc/login': {
      summary: 'Start single sign-on',
      responses: { 302: 'Redirect to the identity provider' },
      sso: true,
    },
    'get /api/auth/oidc/callback': {
      summary: 'Finish single sign-on',
      responses: { 302: 'Redirect to the app with the session cookie, or to /login?error=<code>' },
      sso: true,
    },
    'post /api/auth/logout': {
      summary: 'Sign out (ends this session)',
      responses: { 204: 'Signed out; the cookie is cleared' },
    },
    'get /api/me': { summary: 'Who am I', responses: { 200: '`{user}`' } },
    'get /api/auth/sessions': {
      summary: 'My sign-in sessions',
      responses: { 200: '`{items, next}`; `current` marks this one' },
    },
    'delete /api/auth/sessions/:id': { summary: 'End one of my sessions', responses: { 204: 'Ended' } },
    'post /api/tokens': {
      summary: 'Create a personal API token',
      body: auth.tokenSchema,
      responses: { 201: '`{token, apiToken}`: the secret `token` is shown this once' },
    },
    'get /api/tokens': { summary: 'My personal API tokens', responses: { 200: '`{items, next}`' } },
    'delete /api/tokens/:id': { summary: 'Revoke a personal API token', responses: { 204: 'Revoked' } },
  },
  people: {
    'post /api/users': { summary: 'Create a user', body: users.createSchema, responses: { 201: '`{user}`' } },
    'get /api/users': {
      summary: 'List users (search by `q`, filter by role)',
      query: users.listQuery,
      responses: { 200: '`{items, next}`' },
    },
    'get /api/users/:id': { summary: 'Read a user', responses: { 200: '`{user}`' } },
    'patch /api/users/:id': {
      summary: 'Update, disable or reset the password of a user',
      body: users.updateSchema,
      responses: { 200: '`{user}`' },
    },
    'post /api/groups': {
      summary: 'Create a group (department, team)',
      body: groups.createSchema,
      responses: { 201: '`{group}`' },
    },
    'get /api/groups': { summary: 'List groups', query: groups.listQuery, responses: { 200: '`{items, next}`' } },
    'get /api/groups/:id': { summary: 'Read a group with its members', responses: { 200: '`{group}` with `members`' } },
    'patch /api/groups/:id': { summary: 'Update a group', body: groups.updateSchema, responses: { 200: '`{group}`' } },
    'delete /api/groups/:id': { summary: 'Delete a group', responses: { 204: 'Deleted' } },
    'put /api/groups/:id/members/:userId': {
      summary: 'Add a user to a group',
      responses: { 204: 'Added (or already a member)' },
    },
    'delete /api/groups/:id/members/:userId': { summary: 'Remove a user from a group', responses: { 204: 'Removed' } },
    'get /api/people': {
      summary: 'Colleagues to start a chat with',
      query: people.peopleQuery,
      responses: { 200: '`{items, next: null}`' },
    },
    'get /api/agents': {
      summary: 'Agents with availability and load (for transfers)',
      responses: { 200: '`{items, next: null}`' },
    },
  },
  knowledge: {
    'post /api/collections': {
      summary: 'Create a collection (knowledge base)',
      description: '`groups` are who may read it; none: everyone.',
      body: collections.createSchema,
      responses: { 201: '`{collection}`' },
    },
    'get /api/collections': {
      summary: 'Collections I may read',
      query: pageQuery,
      responses: { 200: '`{items, next}`' },
    },
    'get /api/collections/:id': { summary: 'Read a collection', responses: { 200: '`{collection}`' } },
    'patch /api/collections/:id': {
      summary: 'Update a collection',
      body: collections.updateSchema,
      responses: { 200: '`{collection}`' },
    },
    'delete /api/collections/:id': { summary: 'Delete a collection and its documents', responses: { 204: 'Deleted' } },
    'post /api/collections/:id/documents': {
      summary: 'Add a document: upload a file, paste text, add an FAQ entry, or import a URL',
      description:
        'Multipart with one `file` field, or JSON `{title, text}`, `{question, answer}` or `{url, title?, crawl?}`.',
      body: documents.sourceSchema,
      upload: true,
      responses: {
        202: '`{document, duplicate: false}`, queued for ingestion',
        200: '`{document, duplicate: true}`: identical content exists already',
      },
    },
    'post /api/collections/:id/documents/bulk': {
      summary: 'Add up to 500 pasted texts and FAQ entries at once',
      body: documents.bulkSchema,
      responses: {
        202: '`{items: [{document, duplicate}]}`, new ones queued for ingestion',
        200: '`{items}`: every one was a duplicate',
      },
    },
    'get /api/collections/:id/documents': {
      summary: 'Documents of a collection with status and progress',
      query: documents.listQuery,
      responses: { 200: '`{items, next}`' },
    },
    'get /api/documents/:id': {
      summary: 'Read a document (status, progress, error, chunk count)',
      responses: { 200: '`{document}`' },
    },
    'patch /api/documents/:id': {
      summary: 'Enable or disable a document, or narrow who may read it',
      body: documents.updateSchema,
      responses: { 200: '`{document}`' },
    },
    'delete /api/documents/:id': { summary: 'Delete a document and its chunks', responses: { 204: 'Deleted' } },
    'post /api/documents/:id/reindex': {
      summary: 'Parse, split and embed a document again',
      responses: { 202: '`{document}`, queued for ingestion' },
    },
    'get /api/documents/:id/chunks': {
      summary: 'Preview the chunks of a document',
      query: documents.chunkQuery,
      responses: { 200: '`{items, next}`' },
    },
    'get /api/documents/:id/file': {
      summary: 'Download the original file',
      description: '`?disposition=inline` shows PDFs and plain text inline; anything else is an attachment.',
      responses: { 200: 'The file, in its own media type' },
      produces: FILE,
    },
    'post /api/search': {
      summary: 'Hybrid search within what I may read',
      body: search.searchSchema,
      responses: { 200: '`{hits: [{documentId, chunkId, title, text, score}]}`' },
    },
  },
  conversations: {
    'post /api/conversations': {
      summary: 'Start a conversation with a bot, support, a colleague or a group',
      body: conversations.createSchema,
      responses: { 201: '`{conversation}`', 200: '`{conversation}`: the existing one (direct chats)' },
    },
    'get /api/conversations': {
      summary: 'My conversations; agents also see the queue',
      description: '`status=queued` comes in queue order.',
      query: conversations.listQuery,
      responses: { 200: '`{items, next}`' },
    },
    'get /api/conversations/:id': { summary: 'Read a conversation', responses: { 200: '`{conversation}`' } },
    'get /api/conversations/:id/messages': {
      summary: 'History, oldest first',
      query: conversations.historyQuery,
      responses: { 200: '`{items, next: null}`' },
    },
    'post /api/conversations/:id/messages': {
      summary: 'Send a message',
      description: 'The same `clientId` again answers with the original message.',
      body: conversations.postSchema,
      responses: { 201: '`{message}`' },
    },
    'post /api/conversations/:id/read': {
      summary: 'Mark read up to a message',
      body: conversations.readSchema,
      responses: { 204: 'Marked' },
    },
    'post /api/conversations/:id/attachments': {
      summary: 'Upload a file for my next message',
      upload: true,
      responses: { 201: '`{attachment: {id, filename, mime, size}}`' },
    },
    'post /api/conversations/:id/handoff': {
      summary: 'Ask for a person (members only)',
      body: conversations.handoffSchema,
      responses: { 200: '`{conversation}`, now queued' },
    },
    'post /api/conversations/:id/claim': {
      summary: 'Claim a queued conversation',
      responses: { 200: '`{conversation}`, assigned to me' },
    },
    'post /api/conversations/:id/transfer': {
      summary: 'Transfer to another agent or team',
      body: conversations.transferSchema,
      responses: { 200: '`{conversation}`' },
    },
    'post /api/conversations/:id/resolve': { summary: 'Resolve', responses: { 200: '`{conversation}`' } },
    'post /api/conversations/:id/return-to-bot': {
      summary: 'Hand back to the bot',
      responses: { 200: '`{conversation}`' },
    },
    'get /api/conversations/:id/events': {
      summary: 'Handoff, claim, transfer and resolve history',
      responses: { 200: '`{items, next: null}`' },
    },
    'get /api/conversations/:id/suggestion': {
      summary: 'AI draft reply and summary for the agent',
      responses: { 200: '`{suggestion}`' },
    },
    'patch /api/messages/:id': {
      summary: 'Edit my message',
      params: MESSAGE_ID,
      body: conversations.editSchema,
      responses: { 200: '`{message}`' },
    },
    'delete /api/messages/:id': { summary: 'Delete my message', params: MESSAGE_ID, responses: { 204: 'Deleted' } },
    'post /api/messages/:id/feedback': {
      summary: 'Rate a bot answer',
      params: MESSAGE_ID,
      body: assist.feedbackSchema,
      responses: { 200: '`{feedback}`' },
    },
    'get /api/attachments/:id': {
      summary: 'Download an attachment',
      responses: { 200: 'The file, in its own media type' },
      produces: FILE,
    },
    'patch /api/agents/me': {
      summary: 'Set my availability for new conversations',
      body: conversations.availabilitySchema,
      responses: { 200: '`{available}`' },
    },
  },
  bots: {
    'post /api/bots': { summary: 'Create a bot', body: bots.botSchema, responses: { 201: '`{bot}`' } },
    'get /api/bots': {
      summary: 'Bots (employees see what they need to pick one)',
      responses: { 200: '`{items, next: null}`' },
    },
    'get /api/bots/:id': { summary: 'Read a bot', responses: { 200: '`{bot}`' } },
    'patch /api/bots/:id': { summary: 'Update a bot', body: bots.patchSchema, responses: { 200: '`{bot}`' } },
  },
  admin: {
    'get /api/admin/audit': {
      summary: 'Audit trail, newest first',
      query: audit.auditQuery,
      responses: { 200: '`{items, next}`' },
    },
    'get /api/admin/audit/verify': {
      summary: "Check the audit log's hash chain",
      responses: { 200: 'The result of the check' },
    },
    'get /api/admin/analytics': {
      summary: 'Usage and quality numbers',
      query: assist.analyticsQuery,
      responses: { 200: '`{analytics}`' },
    },
    'get /api/admin/gaps': {
      summary: 'Unanswered and low-rated questions',
      responses: { 200: '`{items, next: null}`' },
    },
    'post /api/admin/gaps/faq': {
      summary: 'Answer a knowledge gap with an FAQ entry',
      body: assist.faqSchema,
      responses: { 202: '`{document}`, queued for ingestion' },
    },
  },
  openai: {
    'get /v1/models': {
      summary: 'Bots I may use, as OpenAI models (id = bot slug)',
      responses: { 200: '`{object: "list", data}`' },
    },
    'post /v1/chat/completions': {
      summary: 'Chat completion answered by a bot (`model` = bot slug)',
      description:
        'OpenAI-compatible. With `stream: true` the answer is a text/event-stream of `chat.completion.chunk` events ending with `data: [DONE]`.',
      body: v1.completionSchema,
      responses: { 200: 'A `chat.completion`, or the event stream' },
      produces: ['application/json', 'text/event-stream'],
    },
  },
};

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
    // Query dates (`z.coerce.date()`) arrive as text; any other type JSON cannot describe must fail the start, not vanish.
    unrepresentable: ({ zodSchema }) =>
      zodSchema._zod.def.type === 'date' ? { type: 'string', format: 'date-time' } : 'throw',
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
        'The `token` from POST /api/auth/login, or a personal API token from POST /api/tokens (the one to use on /v1).',
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
 * built once at start. The table above must match them exactly, so a route added without its entry,
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
      `http/openapi.ts is out of date. Undocumented routes: ${undocumented.join(', ') || 'none'}. Entries without a route: ${unregistered.join(', ') || 'none'}.`,
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
