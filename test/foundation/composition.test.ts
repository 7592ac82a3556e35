import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as answerers from '../../server/src/core/bots/grounded-answerer.ts';
import * as publishers from '../../server/src/core/conversations/conversation-publisher.ts';
import * as routings from '../../server/src/core/conversations/routing.service.ts';
import * as parsers from '../../server/src/core/knowledge/parsing/parser-pool.ts';
import * as retrievals from '../../server/src/core/knowledge/retrieval.service.ts';
import * as embedders from '../../server/src/core/llm/create-embedder.ts';
import * as rerankers from '../../server/src/core/llm/rerank-client.ts';
import * as disks from '../../server/src/core/storage/local-disk-storage.ts';
import { search } from '../knowledge/helpers.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { ROOT } from '../support/spawn.ts';
import { until } from '../support/wait.ts';

// Every factory of a piece that must exist once per process, wrapped so the test can count its calls.
const counted = vi.hoisted(() => (name: string) => async (load: () => Promise<Record<string, unknown>>) => {
  const m = await load();
  return { ...m, [name]: vi.fn(m[name] as (...args: unknown[]) => unknown) };
});
vi.mock('../../server/src/core/llm/create-embedder.ts', counted('createEmbedder'));
vi.mock('../../server/src/core/llm/rerank-client.ts', counted('createReranker'));
vi.mock('../../server/src/core/knowledge/retrieval.service.ts', counted('createRetrievalService'));
vi.mock('../../server/src/core/knowledge/parsing/parser-pool.ts', counted('createParserPool'));
vi.mock('../../server/src/core/storage/local-disk-storage.ts', counted('createLocalDiskStorage'));
vi.mock('../../server/src/core/conversations/conversation-publisher.ts', counted('createConversationPublisher'));
vi.mock('../../server/src/core/conversations/routing.service.ts', counted('createRoutingService'));
vi.mock('../../server/src/core/bots/grounded-answerer.ts', counted('createGroundedAnswerer'));

function built() {
  return {
    embedders: vi.mocked(embedders.createEmbedder).mock.calls.length,
    rerankers: vi.mocked(rerankers.createReranker).mock.calls.length,
    retrievalServices: vi.mocked(retrievals.createRetrievalService).mock.calls.length,
    parserPools: vi.mocked(parsers.createParserPool).mock.calls.length,
    fileStorages: vi.mocked(disks.createLocalDiskStorage).mock.calls.length,
    publishers: vi.mocked(publishers.createConversationPublisher).mock.calls.length,
    routingServices: vi.mocked(routings.createRoutingService).mock.calls.length,
    answerers: vi.mocked(answerers.createGroundedAnswerer).mock.calls.length,
  };
}
type Message = { senderType: string; status: string; body: string };

const ONCE_EACH = {
  embedders: 1,
  rerankers: 1,
  retrievalServices: 1,
  parserPools: 1,
  fileStorages: 1,
  publishers: 1,
  routingServices: 1,
  answerers: 1,
};

describe.each(backends)('the all-in-one process on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;

  beforeAll(async () => {
    vi.clearAllMocks();
    app = await startTestApp(backend);
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin' }), newUser(app)]);
  });
  afterAll(() => app?.close());

  it('builds each shared service once, and the API and the jobs do their work through those', async () => {
    expect(built()).toEqual(ONCE_EACH);

    // The ingest job, /api/search and the bot's answer job each use what was built at start.
    const { collectionId, documentIds } = await newKnowledge(app, admin, [
      { title: 'Parking', text: 'Visitors park on level two of the north garage; the gate code is 4711.' },
    ]);
    expect((await search(app, employee.token, 'where do visitors park'))[0]!.documentId).toBe(documentIds[0]);
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const token = employee.token;
    const conversation = await request(app.url, 'POST', '/api/conversations', { token, body: { botId: bot.id } });
    const messages = `/api/conversations/${conversation.body.conversation.id}/messages`;
    await request(app.url, 'POST', messages, { token, body: { body: 'Where do visitors park?' } });
    const answer = await until(async () => {
      const items = (await request(app.url, 'GET', messages, { token })).body.items as Message[];
      return items.find((m) => m.senderType === 'bot' && m.status === 'complete');
    }, 'the bot to answer');
    expect(answer.body).toContain('level two');

    expect(built()).toEqual(ONCE_EACH);
  });
});

/** Every relative import of the TypeScript files under `dir`, as paths from the repository root. */
async function importsUnder(dir: string): Promise<{ file: string; target: string }[]> {
  const out: { file: string; target: string }[] = [];
  for (const entry of await readdir(path.join(ROOT, dir), { recursive: true })) {
    if (!entry.endsWith('.ts')) continue;
    const file = path.join(dir, entry);
    const text = await readFile(path.join(ROOT, file), 'utf8');
    for (const [, specifier] of text.matchAll(/\bfrom '(\.[^']+)'/g)) {
      out.push({ file, target: path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier!)) });
    }
  }
  return out;
}

describe('the dependency direction', () => {
  it('server/ never imports workers/, and core/ never imports the composition, HTTP or WebSocket layers', async () => {
    const server = await importsUnder('server/src');
    expect(server.filter((i) => i.target.startsWith('workers/'))).toEqual([]);
    const outer = /^server\/src\/(composition|services|domain|main|periodic-jobs)\.ts$|^server\/src\/(http|ws|cli)\//;
    expect(server.filter((i) => i.file.startsWith('server/src/core/') && outer.test(i.target))).toEqual([]);
  });
});
