import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../../server/src/core/db/database.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends, createTestDatabase, type TestDatabase } from '../support/databases.ts';
import { newApiBot, newUser, TEST_PASSWORD } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { redisServer, startOwnRedis, type OwnRedis } from '../support/own-redis.ts';
import { requires } from '../support/requires-tool.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';
import { sleep, until } from '../support/wait.ts';

/**
 * Redis goes away while people ask bots and admins add documents, and comes back empty (no
 * persistence). Every message and document whose request succeeded is answered or indexed: the
 * work is committed with them in the outbox, and the relay hands it to the job runner — again, if
 * the runner lost it. Redis is the test's own (support/own-redis.ts), never the shared one.
 */

/** The bot's replies to these questions (answers, declines, offers of a person: each a finished turn). */
async function repliesTo(db: Queryable, questionIds: number[]): Promise<Map<number, string>> {
  const { rows } = await db.query<{ question: number; status: string }>(
    `SELECT (meta->>'questionId')::bigint AS question, status FROM messages
      WHERE sender_type = 'bot' AND (meta->>'questionId')::bigint = ANY($1::bigint[]) AND deleted_at IS NULL`,
    [questionIds],
  );
  return new Map(rows.map((r) => [Number(r.question), r.status]));
}

let redis: OwnRedis | undefined;
afterEach(async () => {
  await killAllChildren();
  await redis?.stop().catch(() => {});
  redis = undefined;
});

describe.each(process.env.TEST_DATABASE_URL ? ['postgres'] : [])(
  'Redis stopped mid-traffic under a server and a worker process (%s)',
  () => {
    let testDb: TestDatabase | undefined;
    let dataDir: string | undefined;
    afterAll(async () => {
      await testDb?.dispose();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it('answers every accepted question and indexes every accepted document once Redis is back', async (ctx) => {
      requires(ctx, [redisServer]);
      redis = await startOwnRedis();
      testDb = await createTestDatabase('postgres');
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'enclave-outage-'));
      const env = childEnv({
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        DATABASE_URL: testDb.url!,
        REDIS_URL: redis.url,
        SESSION_SECRET: 'a-test-session-secret-of-at-least-32-chars',
        ADMIN_EMAIL: 'outage-admin@example.test',
        ADMIN_PASSWORD: TEST_PASSWORD,
      });
      const server = spawnTs('server/src/main.ts', ['server'], { env });
      const url = (await server.waitForLog((l) => l.msg === 'Enclave is ready', 60_000)).url as string;
      const worker = spawnTs('workers/src/main.ts', [], { env });
      await worker.waitForLog((l) => l.msg === 'worker ready', 60_000);

      const login = await request(url, 'POST', '/api/auth/login', {
        body: { email: 'outage-admin@example.test', password: TEST_PASSWORD },
      });
      expect(login.status).toBe(200);
      const token: string = login.body.token;
      const collection = await request(url, 'POST', '/api/collections', { token, body: { name: 'Handbook' } });
      const collectionId: string = collection.body.collection.id;
      const bot = await request(url, 'POST', '/api/bots', {
        token,
        body: { slug: 'outage-bot', name: 'HR Assistant', collectionIds: [collectionId] },
      });
      expect(bot.status).toBe(201);
      // The conversations first: starting one is not what this test is about.
      const conversations: string[] = [];
      for (let i = 0; i < 40; i += 1) {
        const started = await request(url, 'POST', '/api/conversations', { token, body: { botId: bot.body.bot.id } });
        conversations.push(started.body.conversation.id);
      }

      // Requests go out at a steady pace whatever their answers take (during the outage, telling
      // other servers through Redis waits for its retries), as people keep typing.
      const questions: number[] = [];
      const documents: string[] = [];
      const refused: string[] = [];
      const sent: Promise<void>[] = [];
      let outage: 'before' | 'during' | 'after' = 'before';
      const sentDuringOutage = { questions: 0, documents: 0 };
      const ask = (n: number) => {
        if (outage === 'during') sentDuringOutage.questions += 1;
        return request(url, 'POST', `/api/conversations/${conversations[n]}/messages`, {
          token,
          body: { body: `How many vacation days do I get? (${n})`, clientId: randomUUID() },
        }).then((res) => {
          if (res.status === 201) questions.push(res.body.message.id);
          else refused.push(`question ${n}: ${res.status} ${JSON.stringify(res.body)}`);
        });
      };
      const add = (n: number) => {
        if (outage === 'during') sentDuringOutage.documents += 1;
        return request(url, 'POST', `/api/collections/${collectionId}/documents`, {
          token,
          body: { title: `Policy ${n}`, text: `Policy ${n}: employees get ${n + 20} vacation days a year.` },
        }).then((res) => {
          if (res.status === 202) documents.push(res.body.document.id);
          else refused.push(`document ${n}: ${res.status} ${JSON.stringify(res.body)}`);
        });
      };
      let ticks = 0;
      const pace = setInterval(() => {
        const n = ticks++;
        if (n >= conversations.length) return;
        sent.push(ask(n));
        if (n % 2 === 0) sent.push(add(n / 2));
      }, 100);
      try {
        await sleep(1000);
        await redis.stop();
        outage = 'during';
        await sleep(2000);
        await redis.start();
        outage = 'after';
      } finally {
        clearInterval(pace);
      }
      await Promise.all(sent);

      // Nothing posted during the outage was refused: the commit succeeded, so the request did.
      expect(refused).toEqual([]);
      expect(sentDuringOutage.questions).toBeGreaterThan(10);
      expect(sentDuringOutage.documents).toBeGreaterThan(5);
      const started = Date.now();
      await until(
        async () => (await repliesTo(testDb!.db, questions)).size === questions.length,
        `a reply to each of ${questions.length} questions`,
        90_000,
        250,
      );
      const answeredAfterMs = Date.now() - started;
      const replies = await repliesTo(testDb.db, questions);
      expect([...replies.values()].every((s) => s === 'complete')).toBe(true);
      await until(
        async () => {
          const { rows } = await testDb!.db.query<{ status: string }>(
            'SELECT status FROM documents WHERE id = ANY($1::uuid[])',
            [documents],
          );
          return rows.length === documents.length && rows.every((r) => r.status === 'ready');
        },
        `each of ${documents.length} documents to be indexed`,
        90_000,
        250,
      );
      // Nothing is left behind in the outbox once its jobs have run.
      await until(
        async () => (await testDb!.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n === 0,
        'an empty outbox',
        30_000,
        250,
      );
      console.info(
        `outage: ${sentDuringOutage.questions} questions and ${sentDuringOutage.documents} documents sent while Redis was down; ` +
          `${questions.length} questions answered, the last ${answeredAfterMs} ms after the traffic stopped`,
      );

      // Jobs Redis already held when it restarted empty: no worker takes them meanwhile, so they
      // are certainly lost with it. The relay finds them gone and dispatches them again.
      await worker.stop();
      const waiting: number[] = [];
      for (const id of conversations.slice(0, 5)) {
        const res = await request(url, 'POST', `/api/conversations/${id}/messages`, {
          token,
          body: { body: 'And how many sick days?' },
        });
        expect(res.status).toBe(201);
        waiting.push(res.body.message.id);
      }
      await until(
        async () =>
          (
            await testDb!.db.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM outbox WHERE job_name = 'answer' AND dispatched_at IS NOT NULL`,
            )
          ).rows[0]!.n === waiting.length,
        'the answer jobs to be in Redis',
      );
      await redis.stop();
      await redis.start();
      const lostAt = Date.now();
      const second = spawnTs('workers/src/main.ts', [], { env });
      await until(
        async () => (await repliesTo(testDb!.db, waiting)).size === waiting.length,
        'replies to the questions whose jobs Redis lost',
        60_000,
        250,
      );
      console.info(`jobs lost with Redis: all ${waiting.length} answered ${Date.now() - lostAt} ms after its restart`);
      await second.stop();
      await server.stop();
    }, 240_000);
  },
);

describe.each(backends)('a question sent while Redis is down, on %s', (backend) => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is accepted (201), and its resend with the same clientId gets the answer once Redis is back', async (ctx) => {
    requires(ctx, [redisServer]);
    redis = await startOwnRedis();
    app = await startTestApp(backend, { redisUrl: redis.url });
    const admin = await newUser(app, { role: 'admin' });
    const employee = await newUser(app);
    const collection = await request(app.url, 'POST', '/api/collections', { token: admin.token, body: { name: 'HR' } });
    const bot = await newApiBot(app, admin, { collectionIds: [collection.body.collection.id] });
    const conversation = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { botId: bot.id },
    });
    const conversationId: string = conversation.body.conversation.id;
    const clientId = randomUUID();
    const send = () =>
      request(app!.url, 'POST', `/api/conversations/${conversationId}/messages`, {
        token: employee.token,
        body: { body: 'How many vacation days do I get?', clientId },
      });

    await redis.stop();
    const first = await send();
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    await redis.start();
    const resent = await send();
    expect(resent.status).toBe(201);
    expect(resent.body.message.id).toBe(first.body.message.id);
    const reply = await until(
      async () => (await repliesTo(app!.services.db, [first.body.message.id])).get(first.body.message.id),
      'the bot to reply to the resent question',
      30_000,
      100,
    );
    expect(reply).toBe('complete');
    const history = await request(app.url, 'GET', `/api/conversations/${conversationId}/messages`, {
      token: employee.token,
    });
    expect(history.body.items.filter((m: { senderType: string }) => m.senderType === 'bot')).toHaveLength(1);
  }, 120_000);
});
