import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presentMessage } from '../../server/src/core/conversations/conversation.presenter.ts';
import { createMessageRepository } from '../../server/src/core/conversations/message.repository.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import type { TestUser } from '../support/fixtures.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { connectSocket, type Frame } from '../support/ws-client.ts';
import { apiOf, messageIds, quickUser, say, settle, type Api } from './helpers.ts';

const isMessage = (conversationId: string) => (f: Frame) =>
  f.type === 'message.created' && f.message.conversationId === conversationId;

describe.each(backends)('resume after a disconnect on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let alice: TestUser;
  let bob: TestUser;
  let chat: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    api = apiOf(app);
    [alice, bob] = await Promise.all([quickUser(app, { name: 'Alice' }), quickUser(app, { name: 'Bob' })]);
    const created = await api.post(alice.token, '/api/conversations', { kind: 'direct', userId: bob.id });
    chat = created.body.conversation.id;
  });
  afterAll(() => app?.close());

  it('replays all 50 messages missed while away, once each and in order, then resume.done; messages sent during the replay arrive exactly once', async () => {
    const first = await connectSocket(app.url, alice.token);
    const seen = await say(api, bob, chat, 'before the tunnel');
    await first.waitFor((f) => f.type === 'message.created' && f.message.id === seen.id);
    await first.close();

    const missed: number[] = [];
    for (let i = 0; i < 50; i += 10) {
      missed.push(
        ...(await Promise.all(Array.from({ length: 10 }, (_, j) => say(api, bob, chat, `missed ${i + j}`)))).map(
          (m) => m.id,
        ),
      );
    }
    missed.sort((x, y) => x - y);

    const socket = await connectSocket(app.url, alice.token);
    socket.send({ type: 'resume', after: seen.id });
    // Bob keeps writing while the replay runs.
    const concurrent = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await settle(i * 2);
        return (await say(api, bob, chat, `during replay ${i}`)).id;
      }),
    );
    const done = await socket.waitFor((f) => f.type === 'resume.done', 10_000);
    await socket.waitForCount(isMessage(chat), 70, 10_000);
    await settle(300); // late duplicates, if any, would land now

    const ids = messageIds(socket.frames);
    // Exactly once each: nothing missing, nothing twice.
    expect(ids.length).toBe(new Set(ids).size);
    expect([...ids].sort((a, b) => a - b)).toEqual([...missed, ...concurrent].sort((a, b) => a - b));
    // The 50 missed ones come in id order, all before resume.done.
    const doneAt = socket.frames.indexOf(done);
    const positions = missed.map((id) =>
      socket.frames.findIndex((f) => f.type === 'message.created' && f.message.id === id),
    );
    expect(positions.every((p) => p >= 0 && p < doneAt)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(done.last).toBeGreaterThanOrEqual(missed[missed.length - 1]!);
    await socket.close();
  });

  it('does not replay a message the socket already received live after reconnecting', async () => {
    const first = await connectSocket(app.url, alice.token);
    const seen = await say(api, bob, chat, 'seen');
    await first.waitFor((f) => f.type === 'message.created' && f.message.id === seen.id);
    await first.close();
    const away = await say(api, bob, chat, 'while away');

    const socket = await connectSocket(app.url, alice.token);
    // Bob writes between the reconnect and the client's resume frame: it arrives live…
    const live = await say(api, bob, chat, 'between reconnect and resume');
    await socket.waitFor((f) => f.type === 'message.created' && f.message.id === live.id);
    // …and the replay must not deliver it again.
    socket.send({ type: 'resume', after: seen.id });
    await socket.waitFor((f) => f.type === 'resume.done');
    await settle();
    expect(messageIds(socket.frames).sort((a, b) => a - b)).toEqual([away.id, live.id]);
    await socket.close();
  });

  it('does not deliver a replayed message again when its live event arrives late', async () => {
    const first = await connectSocket(app.url, alice.token);
    const seen = await say(api, bob, chat, 'seen');
    await first.waitFor((f) => f.type === 'message.created' && f.message.id === seen.id);
    await first.close();
    const away = await say(api, bob, chat, 'while away');

    const socket = await connectSocket(app.url, alice.token);
    socket.send({ type: 'resume', after: seen.id });
    await socket.waitFor((f) => f.type === 'resume.done');
    // The live event of a message the replay already carried, delayed on the bus (as Redis can be).
    const row = (await createMessageRepository(app.services.db).findById(away.id))!;
    await app.services.bus.publish({
      type: 'message.created',
      conversationId: chat,
      messageId: row.id,
      readerIds: [alice.id],
      message: presentMessage(row),
    });
    const next = await say(api, bob, chat, 'after the replay');
    await socket.waitFor((f) => f.type === 'message.created' && f.message.id === next.id);
    await settle();
    expect(messageIds(socket.frames)).toEqual([away.id, next.id]);
    await socket.close();
  });

  it('keeps resumes of one socket apart: two resume frames at once give two complete, ordered replays', async () => {
    const first = await connectSocket(app.url, alice.token);
    const seen = await say(api, bob, chat, 'seen');
    await first.waitFor((f) => f.type === 'message.created' && f.message.id === seen.id);
    await first.close();
    const missed: number[] = [];
    for (let i = 0; i < 5; i += 1) missed.push((await say(api, bob, chat, `gap ${i}`)).id);

    const socket = await connectSocket(app.url, alice.token);
    socket.send({ type: 'resume', after: seen.id });
    socket.send({ type: 'resume', after: seen.id });
    const dones = await socket.waitForCount((f) => f.type === 'resume.done', 2);
    expect(dones.map((d) => d.last)).toEqual([missed[4], missed[4]]);
    // Exactly once, even though the client asked twice.
    expect(messageIds(socket.frames)).toEqual(missed);
    await socket.close();
  });
});

// Two servers over one Postgres database and one Redis: what one does, the other's clients see.
const sharedRedis = redisUrl && backends.includes('postgres') ? [redisUrl] : [];

describe.each(sharedRedis)('two server processes sharing Redis (%s) and one Postgres database', (url) => {
  let a: TestApp;
  let b: TestApp;
  let api: { a: Api; b: Api };
  const prefix = uniquePrefix('conv');

  beforeAll(async () => {
    a = await startTestApp('postgres', { redisUrl: url, env: { REDIS_PREFIX: prefix } });
    b = await startTestApp('postgres', { redisUrl: url, env: { REDIS_PREFIX: prefix }, databaseUrl: a.databaseUrl! });
    api = { a: apiOf(a), b: apiOf(b) };
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await deleteKeys(url, prefix);
  });

  it('delivers a message posted on server B to a client connected to server A', async () => {
    const [alice, bob] = await Promise.all([quickUser(a), quickUser(a)]);
    const chat = (await api.b.post(bob.token, '/api/conversations', { kind: 'direct', userId: alice.id })).body
      .conversation.id;
    const onA = await connectSocket(a.url, alice.token);
    const onB = await connectSocket(b.url, alice.token);
    const sent = await say(api.b, bob, chat, 'posted on B');
    const got = await onA.waitFor((f) => f.type === 'message.created' && f.message.id === sent.id);
    expect(got.message).toMatchObject({ body: 'posted on B', conversationId: chat, senderId: bob.id });
    // Her other tab on B gets it too, and each socket exactly once.
    await onB.waitFor((f) => f.type === 'message.created' && f.message.id === sent.id);
    await settle();
    expect(messageIds(onA.frames)).toEqual([sent.id]);
    expect(messageIds(onB.frames)).toEqual([sent.id]);
    await Promise.all([onA.close(), onB.close()]);
  });

  it('shows an agent on server A the queue changes made on server B', async () => {
    const [employee, watcher, claimer] = await Promise.all([
      quickUser(a),
      quickUser(a, { role: 'agent' }),
      quickUser(a, { role: 'agent' }),
    ]);
    const agentOnA = await connectSocket(a.url, watcher.token);
    const created = await api.b.post(employee.token, '/api/conversations', { kind: 'support' });
    const id = created.body.conversation.id;
    await agentOnA.waitFor(
      (f) => f.type === 'conversation.updated' && f.conversation.id === id && f.conversation.status === 'queued',
    );
    expect((await api.b.post(claimer.token, `/api/conversations/${id}/claim`)).status).toBe(200);
    const claimed = await agentOnA.waitFor(
      (f) => f.type === 'conversation.updated' && f.conversation.id === id && f.conversation.status === 'assigned',
    );
    expect(claimed.conversation.assigneeId).toBe(claimer.id);
    // And a session revoked on B closes the socket on A.
    await api.b.post(watcher.token, '/api/auth/logout');
    expect((await agentOnA.closed).code).toBe(4001);
  });
});
