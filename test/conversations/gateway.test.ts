import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createConversationPublisher } from '../../server/src/core/conversations/conversation-publisher.ts';
import { createMessageRepository } from '../../server/src/core/conversations/message.repository.ts';
import { createUserRepository } from '../../server/src/core/users/user.repository.ts';
import { DEFAULT_GATEWAY_OPTIONS } from '../../server/src/ws/gateway.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import type { TestUser } from '../support/fixtures.ts';
import { sleep, until } from '../support/wait.ts';
import { connectSocket, type TestSocket } from '../support/ws-client.ts';
import { apiOf, expectStatus, messageIds, quickUser, say, type Api } from './helpers.ts';

const wsUrl = (app: TestApp, token?: string) =>
  `${app.url.replace(/^http/, 'ws')}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;

/** The handshake's HTTP status: 101 when it upgraded (the socket is then closed again). */
function handshake(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

const rawSocket = (socket: TestSocket) => (socket.ws as unknown as { _socket: Socket })._socket;

async function droppedCount(app: TestApp, reason: string): Promise<number> {
  const metric = await app.services.metrics.wsDropped.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** A second session of the same person (another browser). */
async function anotherSession(app: TestApp, user: TestUser): Promise<string> {
  const row = (await createUserRepository(app.services.db).findById(user.id))!;
  return (await app.domain.auth.startSsoSession(row, { ip: '127.0.0.1', userAgent: 'second browser' })).token;
}

describe.each(backends)('WebSocket gateway protections on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  let chat: string;
  const MAX_BUFFERED = 64 * 1024;

  beforeAll(async () => {
    app = await startTestApp(backend, {
      gateway: { framesPerSecond: 10, frameBurst: 5, maxBufferedBytes: MAX_BUFFERED },
    });
    api = apiOf(app);
    [alice, bob, admin] = await Promise.all([quickUser(app), quickUser(app), quickUser(app, { role: 'admin' })]);
    chat = (await api.post(alice.token, '/api/conversations', { kind: 'direct', userId: bob.id })).body.conversation.id;
  });
  afterAll(() => app?.close());

  it('refuses a handshake without a token or with a bad one (401)', async () => {
    expect(await handshake(wsUrl(app))).toBe(401);
    expect(await handshake(wsUrl(app, 'not-a-token'))).toBe(401);
    expect(await handshake(wsUrl(app, `ses_${'x'.repeat(40)}`))).toBe(401);
    await expect(connectSocket(app.url, 'bogus')).rejects.toThrow(/401/);
    expect(await handshake(wsUrl(app), { authorization: `Bearer ${alice.token}` })).toBe(101);
  });

  it('accepts the session cookie only from our own origin', async () => {
    const cookie = `enclave_session=${encodeURIComponent(alice.token)}`;
    expect(await handshake(wsUrl(app), { cookie, origin: 'https://evil.example' })).toBe(403);
    expect(await handshake(wsUrl(app), { cookie })).toBe(403); // a cookie without Origin: not a browser we trust
    // From our own page the cookie works, and the socket is a working one.
    const socket = await connectSocketWithHeaders(wsUrl(app), { cookie, origin: app.url });
    const sent = await say(api, bob, chat, 'hello over a cookie socket');
    await socket.waitFor((f) => f.type === 'message.created' && f.message.id === sent.id);
    await socket.close();
  });

  it('closes the sockets of a revoked session (4001) and only those', async () => {
    const secondToken = await anotherSession(app, alice);
    const revoked = await connectSocket(app.url, secondToken);
    const kept = await connectSocket(app.url, alice.token);
    const sessions = await api.get(secondToken, '/api/auth/sessions');
    const second = sessions.body.items.find((s: { current: boolean }) => s.current);
    expectStatus(await api.del(alice.token, `/api/auth/sessions/${second.id}`), 204);
    expect((await revoked.closed).code).toBe(4001);
    // The other browser is untouched.
    const sent = await say(api, bob, chat, 'still here?');
    await kept.waitFor((f) => f.type === 'message.created' && f.message.id === sent.id);
    await kept.close();
  });

  it('closes the socket on logout (4001)', async () => {
    const token = await anotherSession(app, alice);
    const socket = await connectSocket(app.url, token);
    expectStatus(await api.post(token, '/api/auth/logout'), 204);
    expect((await socket.closed).code).toBe(4001);
  });

  it("closes a disabled user's sockets (4001)", async () => {
    const carol = await quickUser(app);
    const socket = await connectSocket(app.url, carol.token);
    expectStatus(await api.patch(admin.token, `/api/users/${carol.id}`, { disabled: true }), 200);
    expect((await socket.closed).code).toBe(4001);
    await expect(connectSocket(app.url, carol.token)).rejects.toThrow(/401/);
  });

  it('answers a flood with rate_limited errors, then closes it (1008)', async () => {
    const socket = await connectSocket(app.url, alice.token);
    for (let i = 0; i < 200; i += 1) socket.send({ type: 'ping' });
    const closed = await socket.closed;
    expect(closed.code).toBe(1008);
    expect(socket.frames.filter((f) => f.type === 'pong').length).toBe(5); // the burst
    expect(socket.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited').length).toBeGreaterThan(10);
  });

  it('forgives bursts separated by quiet periods: only a sustained flood closes a socket', async () => {
    const socket = await connectSocket(app.url, alice.token);
    // Three bursts of 20 refusals: more than the 50 that close a flooding socket, but with pauses.
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 25; i += 1) socket.send({ type: 'ping' }); // 5 allowed, 20 refused
      await socket.waitForCount((f) => f.type === 'error' && f.code === 'rate_limited', 20 * (round + 1));
      await sleep(600); // the bucket refills (5 frames at 10 a second)
    }
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.send({ type: 'ping' });
    await socket.waitForCount((f) => f.type === 'pong', 16);
    await socket.close();
  });

  it('answers malformed frames with invalid_frame and keeps the socket open', async () => {
    const socket = await connectSocket(app.url, alice.token);
    socket.ws.send('not json');
    socket.ws.send('[1,2,3]');
    socket.send({ type: 'subscribe', everything: true });
    socket.send({ type: 'read', conversationId: 'not-a-uuid', messageId: 1 });
    socket.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    const errors = await socket.waitForCount((f) => f.type === 'error', 5);
    expect(errors.map((e) => e.code)).toEqual(Array(5).fill('invalid_frame'));
    await sleep(150); // one token back
    socket.send({ type: 'ping' });
    await socket.waitFor((f) => f.type === 'pong');
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    await socket.close();
  });

  it('disconnects a client that stops reading instead of buffering for it, and it resumes without loss', async () => {
    const socket = await connectSocket(app.url, alice.token);
    // Caught up first, as the web app is on every connect: from then on frames go out live.
    const { rows: newest } = await app.services.db.query<{ last: number }>(
      'SELECT COALESCE(max(id), 0)::bigint AS last FROM messages',
    );
    socket.send({ type: 'resume', after: Number(newest[0]!.last) });
    await socket.waitFor((f) => f.type === 'resume.done', 10_000);
    const before = await droppedCount(app, 'slow_consumer');
    const connected = app.gateway.size;
    rawSocket(socket).pause(); // the client stops reading; the kernel buffers fill, then the server's
    // Bob's messages (~90 kB each, ~9 MB in all) land and go out through the publisher as usual.
    const { rows } = await app.services.db.query<{ id: number }>(
      `INSERT INTO messages (conversation_id, sender_type, sender_id, body)
       SELECT $1, 'user', $2, i || ' ' || repeat('长', 30000) FROM generate_series(1, 100) AS i RETURNING id`,
      [chat, bob.id],
    );
    const posted = rows.map((r) => Number(r.id)).sort((x, y) => x - y);
    const publisher = createConversationPublisher(app.services.db, app.services.bus);
    const messages = createMessageRepository(app.services.db);
    for (const id of posted) {
      await publisher.message('message.created', (await messages.findById(id))!);
      await sleep(1);
      if ((await droppedCount(app, 'slow_consumer')) > before) break;
    }
    expect(await droppedCount(app, 'slow_consumer'), 'the slow client was never cut off').toBe(before + 1);
    // Cut loose promptly: the server no longer holds that socket (or its buffers).
    await until(() => app.gateway.size < connected, 'the slow socket to be released', 5000);
    for (let i = 0; i < 3; i += 1) posted.push((await say(api, bob, chat, `after the cut ${i}`)).id);

    // The client wakes up, reads what did reach it, notices the close, reconnects and resumes.
    rawSocket(socket).resume();
    const closed = await socket.closed;
    expect([1006, 1013]).toContain(closed.code);
    const firstIds = socket.frames.filter((f) => f.type === 'message.created').map((f) => f.message.id as number);
    const lastSeen = firstIds.at(-1) ?? 0;
    const again = await connectSocket(app.url, alice.token);
    again.send({ type: 'resume', after: lastSeen });
    await again.waitFor((f) => f.type === 'resume.done', 10_000);
    const secondIds = again.frames.filter((f) => f.type === 'message.created').map((f) => f.message.id as number);
    expect([...firstIds, ...secondIds]).toEqual(posted);
    await again.close();
  });
  it('holds live frames for a socket that has not resumed yet only as far as its buffer may go', async () => {
    const socket = await connectSocket(app.url, alice.token); // no resume: its frames wait for one
    const before = await droppedCount(app, 'slow_consumer');
    const { rows } = await app.services.db.query<{ id: number }>(
      `INSERT INTO messages (conversation_id, sender_type, sender_id, body)
       SELECT $1, 'user', $2, i || ' ' || repeat('长', 30000) FROM generate_series(1, 20) AS i RETURNING id`,
      [chat, bob.id],
    );
    const publisher = createConversationPublisher(app.services.db, app.services.bus);
    const messages = createMessageRepository(app.services.db);
    for (const { id } of rows) await publisher.message('message.created', (await messages.findById(Number(id)))!);
    expect((await socket.closed).code).toBe(1013);
    expect(await droppedCount(app, 'slow_consumer')).toBe(before + 1);
  });

  it("sends live frames at once to a socket that says it has nothing to resume (a fresh page), not after the resume's grace", async () => {
    const started = Date.now(); // the server holds a new socket's frames from here, unless told
    const socket = await connectSocket(app.url, alice.token);
    socket.send({ type: 'live' });
    await sleep(50);
    const said = await say(api, bob, chat, 'straight through');
    await socket.waitFor((f) => f.type === 'message.created' && f.message.id === said.id, 5000);
    expect(Date.now() - started).toBeLessThan(DEFAULT_GATEWAY_OPTIONS.resumeGraceMs);
    await socket.close();
  });

  it('paces a large replay to a client that reads slowly instead of cutting it off', async () => {
    const dana = await quickUser(app);
    const bulk = (await api.post(dana.token, '/api/conversations', { kind: 'direct', userId: alice.id })).body
      .conversation.id;
    const { rows } = await app.services.db.query<{ last: number }>(
      'SELECT COALESCE(max(id), 0)::bigint AS last FROM messages',
    );
    const after = Number(rows[0]!.last);
    // About 5 MB of history she missed: far more than the 64 kB a socket may have waiting.
    const inserted = await app.services.db.query<{ id: number }>(
      `INSERT INTO messages (conversation_id, sender_type, sender_id, body)
       SELECT $1, 'user', $2, i || ' ' || repeat('长', 30000) FROM generate_series(1, 60) AS i RETURNING id`,
      [bulk, dana.id],
    );
    const ids = inserted.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    const dropped = await droppedCount(app, 'slow_consumer');

    const socket = await connectSocket(app.url, alice.token);
    socket.send({ type: 'resume', after });
    rawSocket(socket).pause(); // a slow link: she reads nothing for a while…
    await sleep(500);
    rawSocket(socket).resume(); // …then catches up
    await socket.waitFor((f) => f.type === 'resume.done', 20_000);
    expect(messageIds(socket.frames)).toEqual(ids);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    expect(await droppedCount(app, 'slow_consumer')).toBe(dropped);
    await socket.close();
  });

  describe('a cap on sockets per user', () => {
    let capped: TestApp;
    beforeAll(async () => {
      capped = await startTestApp(backend, { env: { WS_MAX_SOCKETS_PER_USER: '3' } });
    });
    afterAll(() => capped?.close());

    it("closes a user's oldest socket (4008) when they open one more than WS_MAX_SOCKETS_PER_USER, and keeps the rest working", async () => {
      const [erin, frank] = await Promise.all([quickUser(capped), quickUser(capped)]);
      const dm = (await apiOf(capped).post(frank.token, '/api/conversations', { kind: 'direct', userId: erin.id })).body
        .conversation.id;
      const tabs: TestSocket[] = [];
      for (let i = 0; i < 3; i += 1) tabs.push(await connectSocket(capped.url, erin.token));
      const franks = await connectSocket(capped.url, frank.token);
      tabs.push(await connectSocket(capped.url, erin.token));
      expect(await tabs[0]!.closed).toEqual({ code: 4008, reason: 'Too many connections for this user' });
      expect(tabs.slice(1).map((t) => t.ws.readyState)).toEqual([WebSocket.OPEN, WebSocket.OPEN, WebSocket.OPEN]);
      expect(franks.ws.readyState).toBe(WebSocket.OPEN); // another person's sockets do not count
      const sent = await say(apiOf(capped), frank, dm, 'still reaching you?');
      for (const tab of tabs.slice(1))
        await tab.waitFor((f) => f.type === 'message.created' && f.message.id === sent.id);
      await Promise.all([...tabs.slice(1), franks].map((t) => t.close()));
    });
  });

  // A client that stops reading also stops answering pings, so heartbeats get their own server.
  describe('heartbeats', () => {
    let beating: TestApp;
    let user: TestUser;
    beforeAll(async () => {
      beating = await startTestApp(backend, { gateway: { heartbeatMs: 200 } });
      user = await quickUser(beating);
    });
    afterAll(() => beating?.close());

    it('drops a client that stops answering pings, and keeps one that answers', async () => {
      const silent = new WebSocket(wsUrl(beating, user.token), { autoPong: false });
      const silentClosed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
      await new Promise((resolve, reject) => {
        silent.once('open', resolve);
        silent.once('error', reject);
      });
      const healthy = await connectSocket(beating.url, user.token);
      const started = Date.now();
      const code = await silentClosed;
      expect(code).toBe(1006); // terminated, no closing handshake
      expect(Date.now() - started).toBeLessThan(2000);
      await sleep(600); // three more heartbeats
      expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
      await healthy.close();
    });
  });
});

/** connectSocket with custom headers and no token in the URL (cookie authentication). */
function connectSocketWithHeaders(url: string, headers: Record<string, string>): Promise<TestSocket> {
  const ws = new WebSocket(url, { headers });
  const frames: TestSocket['frames'] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const waitForCount: TestSocket['waitForCount'] = async (predicate, count, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = frames.filter(predicate);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${count} frame(s)`);
      await sleep(10);
    }
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        waitFor: async (predicate, timeoutMs) => (await waitForCount(predicate, 1, timeoutMs))[0]!,
        waitForCount,
        send: (frame) => ws.send(JSON.stringify(frame)),
        close: async () => {
          ws.close();
          await closed;
        },
        closed,
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket handshake refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
