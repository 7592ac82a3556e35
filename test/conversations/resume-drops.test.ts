import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { sleep } from '../support/wait.ts';
import type { Frame } from '../support/ws-client.ts';
import { apiOf, expectStatus, quickUser, type Api } from './helpers.ts';

/**
 * The Done-when of issue 17 finding 7: 200 sockets that drop at random and come back resuming
 * with the last message id they have seen (a client of the WebSocket contract, sending its
 * resume a little after the socket opens) while people chat, edit, delete and resend, and a bot
 * streams answers: every socket ends with every message, in its current state, none twice, each
 * conversation in order, and no answer left streaming.
 */

const USERS = 100;
const TABS_PER_USER = 2; // 200 sockets
const GROUP_SIZE = 4;
const GROUP_MESSAGES = 24;
const BOT_ASKERS = 20;
const QUESTIONS = 3;

const random = (min: number, max: number) => min + Math.random() * (max - min);

interface Shown {
  conversationId: string;
  status: string;
  body: string;
  deleted: boolean;
  edited: boolean;
  seq: number;
}

/** One browser tab: a socket that drops now and then, and what its user sees. */
class Tab {
  readonly shown = new Map<number, Shown>();
  after: number;
  since: number;
  duplicates = 0;
  outOfOrder: string[] = [];
  resumes = 0;
  drops = 0;
  private newestIn = new Map<string, number>();
  private ws: WebSocket | undefined;
  private resumed: Promise<void> = Promise.resolve();
  private stopped = false;
  private dropping: Promise<void> = Promise.resolve();

  /** `seen`: the newest message when the tab opened (its history was loaded up to there). */
  constructor(
    private readonly url: string,
    private readonly token: string,
    seen: number,
  ) {
    this.after = this.since = seen;
  }

  private apply(frame: Frame, done: () => void) {
    if (frame.type === 'resume.done') {
      this.after = Math.max(this.after, frame.last as number);
      this.since = Math.max(this.since, (frame.seq as number | undefined) ?? 0);
      done();
      return;
    }
    if (frame.type === 'message.delta') {
      const shown = this.shown.get(frame.messageId as number);
      if (shown?.status === 'streaming') shown.body += frame.delta as string;
      return;
    }
    if (frame.type !== 'message.created' && frame.type !== 'message.updated' && frame.type !== 'message.completed')
      return;
    const m = frame.message as {
      id: number;
      conversationId: string;
      status: string;
      body: string;
      deletedAt: string | null;
      editedAt: string | null;
      updatedSeq?: number;
    };
    const seq = m.updatedSeq ?? 0;
    const had = this.shown.get(m.id);
    if (frame.type === 'message.created' && had) this.duplicates += 1;
    if (!had) {
      const newest = this.newestIn.get(m.conversationId) ?? 0;
      if (m.id < newest) this.outOfOrder.push(`${m.id} after ${newest} in ${m.conversationId}`);
      this.newestIn.set(m.conversationId, Math.max(newest, m.id));
    }
    if (!had || seq >= had.seq) {
      this.shown.set(m.id, {
        conversationId: m.conversationId,
        status: m.status,
        body: m.body,
        deleted: m.deletedAt !== null,
        edited: m.editedAt !== null,
        seq,
      });
    }
    // "The last message id seen", whichever frame carried it.
    this.after = Math.max(this.after, m.id);
    this.since = Math.max(this.since, seq);
  }

  /** Opens a socket; resumes (when it has seen something) up to 300 ms later, as a slow phone would. */
  async connect(): Promise<void> {
    for (;;) {
      const ws = new WebSocket(`${this.url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(this.token)}`);
      let done!: () => void;
      const resumed = new Promise<void>((resolve) => (done = resolve));
      ws.on('message', (data) => {
        if (this.ws === ws) this.apply(JSON.parse(data.toString()) as Frame, done);
      });
      ws.on('error', () => {});
      ws.on('close', () => done());
      const opened = await new Promise<boolean>((resolve) => {
        ws.once('open', () => resolve(true));
        ws.once('close', () => resolve(false));
      });
      if (!opened) {
        await sleep(50);
        continue;
      }
      this.ws = ws;
      this.resumed = resumed;
      await sleep(random(0, 300));
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'resume', after: this.after, since: this.since }));
      this.resumes += 1;
      return;
    }
  }

  /** Drops the link every 0.5–2 s (no closing handshake) and reconnects at once or a little later. */
  startDropping() {
    this.dropping = (async () => {
      while (!this.stopped) {
        await sleep(random(500, 2000));
        if (this.stopped) break;
        const ws = this.ws;
        this.ws = undefined;
        ws?.terminate();
        this.drops += 1;
        await sleep(random(0, 150));
        await this.connect();
      }
    })();
  }

  /** Stops dropping; resolves when the last socket's resume (if any) has finished. */
  async settle(): Promise<void> {
    this.stopped = true;
    await this.dropping;
    await Promise.race([this.resumed, sleep(20_000)]);
  }

  close() {
    this.stopped = true;
    this.ws?.terminate();
  }
}

interface Stored {
  id: number;
  conversation_id: string;
  status: string;
  body: string;
  deleted: boolean;
  edited: boolean;
}

/** What each tab fails to show as the database has it now: missing, or in an older state. */
function mismatches(tab: Tab, expected: Stored[]): string[] {
  const wrong: string[] = [];
  for (const m of expected) {
    const shown = tab.shown.get(m.id);
    if (m.deleted) {
      // Created and deleted while away: nothing to show, and nothing shown.
      if (shown && !shown.deleted) wrong.push(`${m.id} deleted, still shown`);
      continue;
    }
    if (!shown) wrong.push(`${m.id} missing`);
    else if (shown.deleted || shown.status !== m.status || shown.body !== m.body || shown.edited !== m.edited)
      wrong.push(`${m.id} shown ${shown.status}/${shown.edited ? 'edited' : 'as sent'}, is ${m.status}`);
  }
  return wrong;
}

const targets = backends.map((backend) => ({
  backend,
  redis: backend === 'postgres' ? redisUrl : undefined,
}));

describe.each(targets)('resume under random drops on $backend', ({ backend, redis }) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let api: Api;
  const prefix = uniquePrefix('resume');

  beforeAll(async () => {
    model = await startFakeOpenAi(() => ({
      reply: ['Full-time ', 'employees get ', '15 days ', 'of paid annual leave [1].'],
      chunkDelayMs: 80,
    }));
    app = await startTestApp(backend, {
      ...(redis ? { redisUrl: redis } : {}),
      env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', REDIS_PREFIX: prefix },
    });
    api = apiOf(app);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await model?.close();
    if (redis) await deleteKeys(redis, prefix);
  });

  it(`${USERS * TABS_PER_USER} sockets dropping at random: nothing lost, nothing twice, in order, no answer left streaming`, async () => {
    const admin = await newUser(app, { role: 'admin' });
    const { collectionId } = await newKnowledge(app, admin, [
      { title: 'Leave policy 2026', text: 'Every full-time employee receives 15 days of paid annual leave per year.' },
    ]);
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const users: TestUser[] = [];
    for (let i = 0; i < USERS; i += 20)
      users.push(...(await Promise.all(Array.from({ length: 20 }, () => quickUser(app)))));
    const groups: { id: string; members: TestUser[] }[] = [];
    for (let i = 0; i < USERS; i += GROUP_SIZE) {
      const members = users.slice(i, i + GROUP_SIZE);
      const created = await api.post(members[0]!.token, '/api/conversations', {
        kind: 'group',
        title: `team ${i}`,
        memberIds: members.slice(1).map((u) => u.id),
      });
      expectStatus(created, 201);
      groups.push({ id: created.body.conversation.id, members });
    }
    const askers = await Promise.all(
      users.slice(0, BOT_ASKERS).map(async (user) => {
        const created = await api.post(user.token, '/api/conversations', { botId: bot.id });
        expectStatus(created, 201);
        return { user, conversationId: created.body.conversation.id as string };
      }),
    );
    const { rows: start } = await app.services.db.query<{ last: number }>(
      'SELECT COALESCE(max(id), 0)::bigint AS last FROM messages',
    );
    const startId = Number(start[0]!.last);

    const tabs = users.flatMap((u) =>
      Array.from({ length: TABS_PER_USER }, () => ({ user: u, tab: new Tab(app.url, u.token, startId) })),
    );
    for (let i = 0; i < tabs.length; i += 25) await Promise.all(tabs.slice(i, i + 25).map(({ tab }) => tab.connect()));
    expect(app.gateway.size).toBe(USERS * TABS_PER_USER);
    for (const { tab } of tabs) tab.startDropping();

    // People write, resend (a retry after a lost answer: same clientId), edit and delete; one writer
    // at a time per conversation, so its messages have one true order.
    const writing = groups.map(async ({ id, members }) => {
      const own: { id: number; author: TestUser }[] = [];
      for (let i = 0; i < GROUP_MESSAGES; i += 1) {
        await sleep(random(50, 200));
        const author = members[i % members.length]!;
        const clientId = randomUUID();
        const sent = await api.post(author.token, `/api/conversations/${id}/messages`, { body: `m${i}`, clientId });
        expectStatus(sent, 201);
        if (Math.random() < 0.15) {
          const again = await api.post(author.token, `/api/conversations/${id}/messages`, { body: `m${i}`, clientId });
          expect(again.body.message.id).toBe(sent.body.message.id);
        }
        own.push({ id: sent.body.message.id, author });
        const earlier = own[Math.floor(Math.random() * own.length)]!;
        const roll = Math.random();
        if (roll < 0.1) await api.patch(earlier.author.token, `/api/messages/${earlier.id}`, { body: `edited ${i}` });
        else if (roll < 0.15) await api.del(earlier.author.token, `/api/messages/${earlier.id}`);
      }
    });
    // Employees ask the bot; each answer streams for a few hundred milliseconds.
    const asking = askers.map(async ({ user, conversationId }) => {
      for (let q = 0; q < QUESTIONS; q += 1) {
        await sleep(random(200, 1500));
        const asked = await api.post(user.token, `/api/conversations/${conversationId}/messages`, {
          body: `How many days of annual leave do I get, question ${q + 1}?`,
        });
        expectStatus(asked, 201);
        for (let waited = 0; ; waited += 100) {
          const { rows } = await app.services.db.query<{ status: string }>(
            `SELECT status FROM messages WHERE conversation_id = $1 AND sender_type = 'bot' AND (meta ->> 'questionId')::bigint = $2`,
            [conversationId, asked.body.message.id],
          );
          if (rows[0] && rows[0].status !== 'streaming') break;
          if (waited > 30_000) {
            const { rows: all } = await app.services.db.query(
              `SELECT m.id, m.sender_type, m.status, m.body, m.meta, c.status AS cs FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = $1 ORDER BY m.id`,
              [conversationId],
            );
            throw new Error(`the bot never answered: ${JSON.stringify(all)}`);
          }
          await sleep(100);
        }
      }
    });
    await Promise.all([...writing, ...asking]);
    // However quickly the traffic went (an idle machine), every tab goes through a few drops.
    const dropped = () => tabs.reduce((n, { tab }) => n + tab.drops, 0);
    for (const deadline = Date.now() + 30_000; dropped() <= tabs.length * 3 && Date.now() < deadline;) await sleep(100);
    await Promise.all(tabs.map(({ tab }) => tab.settle()));

    const expected = new Map<string, Stored[]>();
    for (const user of users) {
      const { rows } = await app.services.db.query<Stored>(
        `SELECT m.id, m.conversation_id, m.status, m.body, m.deleted_at IS NOT NULL AS deleted, m.edited_at IS NOT NULL AS edited
           FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = $1
          WHERE m.id > $2 AND NOT m.internal ORDER BY m.id`,
        [user.id, startId],
      );
      expected.set(user.id, rows);
    }
    // Live frames still on their way land within a moment.
    const lost = () => tabs.flatMap(({ user, tab }) => mismatches(tab, expected.get(user.id)!));
    for (let waited = 0; lost().length && waited < 3000; waited += 100) await sleep(100);

    const deliveries = tabs.reduce((n, { tab }) => n + tab.shown.size, 0);
    const duplicates = tabs.reduce((n, { tab }) => n + tab.duplicates, 0);
    const outOfOrder = tabs.flatMap(({ tab }) => tab.outOfOrder);
    const streaming = tabs.flatMap(({ tab }) =>
      [...tab.shown].filter(([, m]) => m.status === 'streaming' && !m.deleted),
    );
    const drops = tabs.reduce((n, { tab }) => n + tab.drops, 0);
    const resumes = tabs.reduce((n, { tab }) => n + tab.resumes, 0);
    console.log(
      `[${backend}] ${tabs.length} sockets, ${drops} drops, ${resumes} resumes: ${deliveries} messages shown, ` +
        `${lost().length} lost or stale, ${duplicates} duplicated, ${outOfOrder.length} out of order, ${streaming.length} left streaming`,
    );
    for (const { tab } of tabs) tab.close();

    expect(drops).toBeGreaterThan(tabs.length * 3);
    expect(lost().slice(0, 10)).toEqual([]);
    expect(duplicates).toBe(0);
    expect(outOfOrder.slice(0, 10)).toEqual([]);
    expect(streaming.length).toBe(0);
  }, 180_000);
});
