import type { z } from 'zod';
import * as assist from './routes/assist.routes.ts';
import * as audit from './routes/audit.routes.ts';
import * as organisation from './routes/organisation.routes.ts';
import * as auth from './routes/auth.routes.ts';
import * as bots from './routes/bots.routes.ts';
import * as cannedReplies from './routes/canned-replies.routes.ts';
import * as collections from './routes/collections.routes.ts';
import * as conversations from './routes/conversations.routes.ts';
import * as documents from './routes/documents.routes.ts';
import * as gaps from './routes/gaps.routes.ts';
import * as groups from './routes/groups.routes.ts';
import * as people from './routes/people.routes.ts';
import * as search from './routes/search.routes.ts';
import * as sources from './routes/sources.routes.ts';
import * as users from './routes/users.routes.ts';
import * as v1 from './routes/v1.routes.ts';
import type { RouteRecord } from './secure-router.ts';
import { pageQuery } from './validate.ts';

type JsonSchema = z.core.JSONSchema.JSONSchema;
type RouteKey = `${RouteRecord['method']} ${string}`;

/** What a route's declaration does not say: what it is for, what it reads and what it answers. */
export interface OperationDoc {
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

/** The usual operation: one success status and what it answers; `more` is the rest of its `OperationDoc`. */
function op(
  summary: string,
  status: number,
  answer: string,
  more: Omit<OperationDoc, 'summary' | 'responses'> = {},
): OperationDoc {
  return { summary, ...more, responses: { [status]: answer } };
}

const MESSAGE_ID: Record<string, JsonSchema> = {
  id: { type: 'integer', minimum: 1, description: 'message id (ids order a conversation)' },
};
const FILE = ['*/*'];

/**
 * Every HTTP route of the server, by tag. The access level comes from the route's declaration;
 * openapi.ts builds the document from this table and checks it against the declared routes.
 */
export const OPERATIONS: Record<string, Record<RouteKey, OperationDoc>> = {
  operations: {
    'get /healthz': op('Liveness', 200, '`{status: "ok"}`'),
    'get /readyz': {
      summary: 'Readiness: database, queue and realtime bus',
      responses: {
        200: '`{status: "ready", checks}`',
        503: '`{status: "unavailable", checks}` naming the failing check',
      },
    },
    'get /metrics': op('Prometheus metrics', 200, 'Prometheus text format', {
      description:
        'For the scraper; restrict it at the proxy. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`; with METRICS_PORT set it is served on that port only.',
      produces: ['text/plain'],
    }),
    'get /api/openapi.json': op('This OpenAPI document', 200, 'OpenAPI 3.1 document'),
  },
  auth: {
    'post /api/auth/login': op(
      'Sign in with email and password',
      200,
      '`{token, user}`; also sets the session cookie',
      { description: 'Repeated failures answer 429 with Retry-After.', body: auth.loginSchema },
    ),
    'get /api/auth/config': op(
      'What the sign-in page offers (SSO or not), the domains links in answers may point to, and what may be attached to a message',
      200,
      '`{sso: {enabled, loginUrl?}, answerLinks: {allowedDomains}, attachments: {maxBytes, maxPerMessage, types: [{mime, extensions}]}}`',
    ),
    'get /api/auth/oidc/login': op('Start single sign-on', 302, 'Redirect to the identity provider', { sso: true }),
    'get /api/auth/oidc/callback': op(
      'Finish single sign-on',
      302,
      'Redirect to the app with the session cookie, or to /login?error=<code>',
      { sso: true },
    ),
    'post /api/auth/logout': op('Sign out (ends this session)', 204, 'Signed out; the cookie is cleared'),
    'get /api/me': op('Who am I', 200, '`{user}`'),
    'get /api/auth/sessions': op('My sign-in sessions', 200, '`{items, next}`; `current` marks this one'),
    'delete /api/auth/sessions/:id': op('End one of my sessions', 204, 'Ended'),
    'post /api/tokens': op(
      'Create a personal API token (signed in only: 403 for a token)',
      201,
      '`{token, apiToken}`: the secret `token` is shown this once; `scopes` default `["chat"]`, expiry 90 days',
      { body: auth.tokenSchema },
    ),
    'get /api/tokens': op('My personal API tokens', 200, '`{items, next}` with scopes, expiry and last use'),
    'delete /api/tokens/:id': op('Revoke a personal API token', 204, 'Revoked'),
  },
  people: {
    'post /api/users': op('Create a user', 201, '`{user}`', { body: users.createSchema }),
    'get /api/users': op('List users (search by `q`, filter by role)', 200, '`{items, next}`', {
      query: users.listQuery,
    }),
    'get /api/users/:id': op('Read a user', 200, '`{user}`'),
    'patch /api/users/:id': op('Update, disable or reset the password of a user', 200, '`{user}`', {
      body: users.updateSchema,
    }),
    'post /api/groups': op('Create a group (department, team)', 201, '`{group}`', { body: groups.createSchema }),
    'get /api/groups': op('List groups', 200, '`{items, next}`', { query: groups.listQuery }),
    'get /api/groups/:id': op('Read a group with its members', 200, '`{group}` with `members`'),
    'patch /api/groups/:id': op('Update a group', 200, '`{group}`', { body: groups.updateSchema }),
    'delete /api/groups/:id': {
      summary: 'Delete a group',
      description:
        'A group that decides who reads collections or documents (and so who may use the bots answering from them) is ' +
        'not deleted: 409 `group_in_use` with `details: {collections, documents, bots}`. ' +
        '`onDependents=restrict-to-admins` deletes it anyway: each of those loses the group, and what no other group ' +
        'opens is then read by admins only — never by everyone.',
      query: groups.deleteQuery,
      responses: { 204: 'Deleted' },
    },
    'put /api/groups/:id/members/:userId': op('Add a user to a group', 204, 'Added (or already a member)'),
    'delete /api/groups/:id/members/:userId': op('Remove a user from a group', 204, 'Removed'),
    'get /api/people': op('Colleagues to start a chat with', 200, '`{items, next: null}`', {
      query: people.peopleQuery,
    }),
    'get /api/agents': op(
      'Agents to transfer to: `{id, name, available}` each, nothing more',
      200,
      '`{items, next: null}`',
    ),
    'get /api/agents/me': op(
      'My presence: whether automatic assignment gives me conversations',
      200,
      '`{agent: {id, name, available}}`',
    ),
  },
  knowledge: {
    'post /api/collections': op('Create a collection (knowledge base)', 201, '`{collection}`', {
      description:
        '`readers`: `everyone`, or `groups` (members of `groups`; an empty list: admins only). ' +
        'Groups alone imply `groups`; neither (or an empty list alone): everyone.',
      body: collections.createSchema,
    }),
    'get /api/collections': op('Collections I may read', 200, '`{items, next}`', { query: pageQuery }),
    'get /api/collections/:id': op('Read a collection', 200, '`{collection}`'),
    'patch /api/collections/:id': op('Update a collection', 200, '`{collection}`', {
      description:
        '`readers: "everyone"` opens it (no groups); `readers: "groups"` with `groups` narrows it (an empty list: ' +
        'admins only); `groups` alone implies `groups`. An empty `groups` without `readers` is refused (400 ' +
        '`readers_required`): emptying the list never opens a collection to everyone.',
      body: collections.updateSchema,
    }),
    'post /api/collections/:id/readers/preview': op(
      'How many people a change of who may read would let in and shut out',
      200,
      '`{change: {gain, lose}}`',
      {
        description:
          'The body as for `PATCH /api/collections/:id` (its readers part); nothing is changed. Active accounts ' +
          'counted by the read rule itself; admins read everything either way.',
        body: collections.readersSchema,
      },
    ),
    'delete /api/collections/:id': op('Delete a collection and its documents', 204, 'Deleted'),
    'post /api/collections/:id/documents': {
      summary: 'Add a document: upload a file, paste text, add an FAQ entry, or import a URL',
      description:
        'Multipart with one `file` field, or JSON `{title, text}`, `{question, answer}` or `{url, title?, crawl?}`. ' +
        'Its readers: `groups` (in JSON; for an upload the query string `?groups=<id>,<id>`) narrows it to members ' +
        "of those groups among the collection's readers from the insert on, before it can be found; none: the " +
        "collection's readers. Pages of a crawl are read by the same groups.",
      body: documents.sourceSchema,
      query: documents.uploadQuery,
      upload: true,
      responses: {
        202: '`{document, duplicate: false}`, queued for ingestion',
        200: '`{document, duplicate: true}`: identical content exists already',
      },
    },
    'post /api/collections/:id/documents/bulk': {
      summary: 'Add up to 500 pasted texts and FAQ entries at once',
      description: '`groups` narrows every entry to members of those groups, applied with the insert.',
      body: documents.bulkSchema,
      responses: {
        202: '`{items: [{document, duplicate}]}`, new ones queued for ingestion',
        200: '`{items}`: every one was a duplicate',
      },
    },
    'get /api/collections/:id/documents': op(
      'Documents of a collection with status and progress',
      200,
      '`{items, next}`',
      { query: documents.listQuery },
    ),
    'get /api/documents/:id': op('Read a document (status, progress, error, chunk count)', 200, '`{document}`'),
    'patch /api/documents/:id': op('Enable or disable a document, or narrow who may read it', 200, '`{document}`', {
      description:
        '`readers: "collection"` gives it its collection\'s readers; `readers: "groups"` with `groups` narrows it ' +
        '(an empty list: admins only); `groups` alone implies `groups`; an empty `groups` alone is refused (400).',
      body: documents.updateSchema,
    }),
    'post /api/documents/:id/readers/preview': op(
      "How many people a change of a document's readers would let in and shut out",
      200,
      '`{change: {gain, lose}}`',
      {
        description:
          "The body as for `PATCH /api/documents/:id` (its readers part); nothing is changed. Its collection's " +
          'readers still apply.',
        body: documents.readersSchema,
      },
    ),
    'delete /api/documents/:id': op('Delete a document and its chunks', 204, 'Deleted'),
    'post /api/documents/:id/reindex': op(
      'Parse, split and embed a document again (a URL, crawled page or folder file is fetched again first)',
      202,
      '`{document}`, queued for ingestion',
    ),
    'get /api/documents/:id/versions': op(
      'The content versions of a document, newest first',
      200,
      '`{items: [{number, contentHash, sizeBytes, origin, createdBy, runId, createdAt}]}`',
      {
        description:
          '`origin`: import, reimport, refresh, schedule or reindex; `createdBy` the user who asked (null for a schedule).',
      },
    ),
    'get /api/collections/:id/sources': op(
      "The collection's sources (URL imports, crawled sites, server folders) with their recent runs",
      200,
      '`{items: [source]}`: `schedule`, `nextRefreshAt`, `running`, `lastRun {status, added, updated, unchanged, retired, failures}`, `runs`',
    ),
    'post /api/collections/:id/sources': op(
      'Sync a directory on the server into the collection',
      201,
      '`{source}`, its first refresh queued',
      {
        description:
          'Body `{kind: "folder", path, schedule?}`. The path must resolve (`..` and symlinks followed) under SYNC_ALLOWED_ROOTS: ' +
          'otherwise 400 `path_not_allowed` (or `folder_sync_disabled` when none is configured).',
        body: sources.folderSchema,
      },
    ),
    'get /api/sources/:id': op('A source with its recent runs', 200, '`{source}`'),
    'patch /api/sources/:id': op("Set or clear a source's refresh schedule", 200, '`{source}`', {
      description: '`{schedule}`: `hourly`, `daily`, `weekly`, a five-field cron expression (UTC), or null.',
      body: sources.sourceUpdateSchema,
    }),
    'delete /api/sources/:id': op('Stop keeping documents in step with a source (they stay)', 204, 'Deleted'),
    'post /api/sources/:id/refresh': op('Refresh a source now', 202, '`{source}`, the run queued'),
    'get /api/documents/:id/chunks': op('Preview the chunks of a document', 200, '`{items, next}`', {
      description:
        'Each chunk carries `flags` (the instruction-like rules it trips, found at ingestion) and `excluded`; ' +
        '`flagged=true` lists only flagged chunks.',
      query: documents.chunkQuery,
    }),
    'get /api/documents/:id/passages': op(
      'A document as its reader sees it (the document view of a citation)',
      200,
      '`{document: {id, title, url, passages: [{chunkId, ord, text, page, headings}]}}`',
      { description: 'Any user: only the passages the read rule lets them read; 404 when there are none.' },
    ),
    'patch /api/documents/:id/chunks/:chunkId': op(
      'Exclude a passage from retrieval, or include it again (audited)',
      200,
      '`{chunk}`',
      {
        description:
          'An excluded passage is never returned by search, the bots, the copilot or `/v1`; a re-index keeps ' +
          'a passage that comes back word for word excluded.',
        body: documents.chunkUpdateSchema,
      },
    ),
    'get /api/documents/:id/file': op('Download the original file', 200, 'The file, in its own media type', {
      description: '`?disposition=inline` shows PDFs and plain text inline; anything else is an attachment.',
      produces: FILE,
    }),
    'post /api/search': op(
      'Hybrid search within what I may read',
      200,
      '`{hits: [{documentId, chunkId, title, text, score}]}`',
      { body: search.searchSchema },
    ),
  },
  conversations: {
    'post /api/conversations': {
      summary: 'Start a conversation with a bot, support, a colleague or a group',
      body: conversations.createSchema,
      responses: { 201: '`{conversation}`', 200: '`{conversation}`: the existing one (direct chats)' },
    },
    'get /api/conversations': op('My conversations; agents also see the queue', 200, '`{items, next}`', {
      description: '`status=queued` comes in queue order.',
      query: conversations.listQuery,
    }),
    'get /api/conversations/:id': op('Read a conversation', 200, '`{conversation}`'),
    'get /api/conversations/:id/messages': op('History, oldest first', 200, '`{items, next: null}`', {
      query: conversations.historyQuery,
    }),
    'post /api/conversations/:id/messages': op('Send a message', 201, '`{message}`', {
      description: 'The same `clientId` again answers with the original message.',
      body: conversations.postSchema,
    }),
    'post /api/conversations/:id/read': op('Mark read up to a message', 204, 'Marked', {
      body: conversations.readSchema,
    }),
    'post /api/conversations/:id/attachments': op(
      'Upload a file for my next message',
      201,
      '`{attachment: {id, filename, mime, size}}`',
      { upload: true },
    ),
    'post /api/conversations/:id/handoff': op('Ask for a person (members only)', 200, '`{conversation}`, now queued', {
      body: conversations.handoffSchema,
    }),
    'post /api/conversations/:id/stop': op(
      "Stop the bot's answer under way (members only)",
      202,
      'Asked: the answer ends marked `stopped`, keeping what was streamed',
    ),
    'put /api/conversations/:id/rating': op(
      'Rate a conversation a person resolved, 1–5 (members only; again: changes it)',
      200,
      '`{rating: {conversationId, rating, comment, updatedAt}}`',
      { body: conversations.ratingSchema },
    ),
    'get /api/conversations/:id/rating': op('My rating of the conversation', 200, '`{rating}` (null: not rated)'),
    'post /api/conversations/:id/claim': op('Claim a queued conversation', 200, '`{conversation}`, assigned to me'),
    'post /api/conversations/:id/transfer': op('Transfer to another agent or team', 200, '`{conversation}`', {
      body: conversations.transferSchema,
    }),
    'post /api/conversations/:id/resolve': op('Resolve', 200, '`{conversation}`'),
    'post /api/conversations/:id/return-to-bot': op('Hand back to the bot', 200, '`{conversation}`'),
    'get /api/conversations/:id/events': op(
      'Handoff, claim, transfer and resolve history',
      200,
      '`{items, next: null}`',
    ),
    'get /api/conversations/:id/customer': op(
      'The customer card: the employee a conversation is for (agents)',
      200,
      '`{customer: {id, name, email, groups: [{id, name}], conversations}}`; `conversations`: their earlier ones the caller may open, newest first',
    ),
    'get /api/canned-replies': op(
      'Canned replies I may use: the shared ones and my own',
      200,
      '`{items: [{id, shortcut, body, shared, updatedAt}], next: null}`',
    ),
    'post /api/canned-replies': op('Create a canned reply (`shared`: admins only, audited)', 201, '`{cannedReply}`', {
      body: cannedReplies.cannedReplySchema,
    }),
    'patch /api/canned-replies/:id': op(
      "Change my canned reply, or (admins) a shared one; another agent's is 404",
      200,
      '`{cannedReply}`',
      { body: cannedReplies.cannedReplyPatchSchema },
    ),
    'delete /api/canned-replies/:id': op(
      "Delete my canned reply, or (admins) a shared one; another agent's is 404",
      204,
      'Deleted',
    ),
    'get /api/conversations/:id/suggestion': op('AI draft reply and summary for the agent', 200, '`{suggestion}`'),
    'patch /api/messages/:id': op('Edit my message', 200, '`{message}`', {
      params: MESSAGE_ID,
      body: conversations.editSchema,
    }),
    'delete /api/messages/:id': op('Delete my message', 204, 'Deleted', { params: MESSAGE_ID }),
    'post /api/messages/:id/feedback': op('Rate a bot answer', 200, '`{feedback}`', {
      params: MESSAGE_ID,
      body: assist.feedbackSchema,
    }),
    'get /api/attachments/:id': op('Download an attachment', 200, 'The file, in its own media type', {
      produces: FILE,
    }),
    'patch /api/agents/me': op('Set my availability for new conversations', 200, '`{available}`', {
      body: conversations.availabilitySchema,
    }),
  },
  bots: {
    'post /api/bots': op('Create a bot', 201, '`{bot}`', { body: bots.botSchema }),
    'get /api/bots': op('Bots (employees see what they need to pick one)', 200, '`{items, next: null}`'),
    'get /api/bots/:id': op('Read a bot', 200, '`{bot}`'),
    'patch /api/bots/:id': op('Update a bot', 200, '`{bot}`', { body: bots.patchSchema }),
  },
  admin: {
    'get /api/admin/audit': op('Audit trail, newest first', 200, '`{items, next}`', { query: audit.auditQuery }),
    'get /api/organisation': op(
      "The organisation's name and logo address (shown on the sign-in page)",
      200,
      '`{organisation: {name, logoUrl}}`',
    ),
    'get /api/organisation/logo': op("The organisation's logo image (404 when none is set)", 200, 'PNG, JPEG or WebP', {
      produces: ['image/png', 'image/jpeg', 'image/webp'],
    }),
    'patch /api/organisation': op('Rename the organisation (empty: none)', 200, '`{organisation}`', {
      body: organisation.organisationSchema,
    }),
    'put /api/organisation/logo': op(
      'Set the logo: the image itself as the body (PNG, JPEG or WebP, ≤ 256 KB; 413 larger, 415 another type)',
      200,
      '`{organisation}`',
    ),
    'delete /api/organisation/logo': op('Remove the logo', 200, '`{organisation}`'),
    'get /api/admin/audit/actions': op('Every action the audit trail holds, for filtering', 200, '`{items: [action]}`'),
    'get /api/admin/audit/export': op(
      'The audit records a filter matches as CSV (UTF-8 with BOM), newest first; the export is itself audited',
      200,
      'CSV',
      { query: audit.auditExportQuery, produces: ['text/csv'] },
    ),
    'get /api/admin/audit/verify': op("Check the audit log's hash chain", 200, 'The result of the check'),
    'get /api/admin/analytics': op('Usage and quality numbers', 200, '`{analytics}`', { query: assist.analyticsQuery }),
    'get /api/admin/gaps': op(
      'Unanswered and low-rated questions, open or resolved',
      200,
      '`{items, next: null}`; each gap has `status` (`open`, `resolved`, `reopened`) and its `resolution`',
      { query: gaps.gapsQuery },
    ),
    'post /api/admin/gaps/faq': op(
      'Answer a knowledge gap with an FAQ entry (the gap is resolved until asked unanswered again)',
      202,
      '`{document}`, queued for ingestion',
      { body: gaps.faqSchema },
    ),
    'post /api/messages/:id/faq-draft': op(
      "Propose an agent's reply as an FAQ draft for an admin to review",
      201,
      '`{draft}` (200 with the pending draft when the reply was already proposed)',
      { body: gaps.faqDraftSchema },
    ),
    'get /api/admin/faq-drafts': op('FAQ drafts proposed by agents', 200, '`{items, next: null}`', {
      query: gaps.faqDraftsQuery,
    }),
    'post /api/admin/faq-drafts/:id/approve': op(
      'Approve an FAQ draft (as edited) into a collection; it is indexed and its gap resolved',
      202,
      '`{draft, document}`',
      { body: gaps.faqEntrySchema },
    ),
    'post /api/admin/faq-drafts/:id/reject': op('Reject an FAQ draft', 200, '`{draft}`'),
  },
  openai: {
    'get /v1/models': op('Bots I may use, as OpenAI models (id = bot slug)', 200, '`{object: "list", data}`'),
    'post /v1/chat/completions': op(
      'Chat completion answered by a bot (`model` = bot slug)',
      200,
      'A `chat.completion`, or the event stream',
      {
        description:
          'OpenAI-compatible. With `stream: true` the answer is a text/event-stream of `chat.completion.chunk` events ending with `data: [DONE]`.',
        body: v1.completionSchema,
        produces: ['application/json', 'text/event-stream'],
      },
    ),
  },
};
