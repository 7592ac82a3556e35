import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newBot, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { connectSocket } from '../support/ws-client.ts';

describe.each(backends)('conversation journey over HTTP and WebSocket on %s', (backend) => {
  let app: TestApp;
  let employee: TestUser;
  let agent: TestUser;
  let outsider: TestUser;
  let admin: TestUser;
  let botId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    [employee, agent, outsider, admin] = await Promise.all([
      newUser(app, { name: '王小明' }),
      newUser(app, { role: 'agent', name: 'Agent Li' }),
      newUser(app),
      newUser(app, { role: 'admin' }),
    ]);
    botId = await newBot(app, { greeting: '你好！我是 HR 助手。' });
  });
  afterAll(() => app?.close());

  it('goes from bot to a person and back, live on both sides, with every step recorded', async () => {
    const employeeSocket = await connectSocket(app.url, employee.token);
    const agentSocket = await connectSocket(app.url, agent.token);
    const outsiderSocket = await connectSocket(app.url, outsider.token);

    const created = await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { botId } });
    expect(created.status).toBe(201);
    const conversation = created.body.conversation;
    expect(conversation).toMatchObject({ kind: 'bot', status: 'bot', botId });
    const id: string = conversation.id;

    const history = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: employee.token });
    expect(history.body.items.map((m: { body: string; senderType: string }) => [m.senderType, m.body])).toEqual([
      ['bot', '你好！我是 HR 助手。'],
    ]);

    // The first question becomes the title.
    const asked = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: '年假有多少天？', clientId: 'c-1' },
    });
    expect(asked.status).toBe(201);
    expect(
      (await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token })).body.conversation.title,
    ).toBe('年假有多少天？');

    // The user's own words hand off to the human queue; agents see it arrive.
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: '我要转人工' },
    });
    const queuedFrame = await agentSocket.waitFor(
      (f) => f.type === 'conversation.updated' && f.conversation.id === id && f.conversation.status === 'queued',
    );
    expect(queuedFrame.conversation.handoffReason).toBe('keyword');
    const mine = await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token });
    expect(mine.body.conversation.queuePosition).toBeGreaterThanOrEqual(1);

    const queue = await request(app.url, 'GET', '/api/conversations?status=queued', { token: agent.token });
    expect(queue.body.items.map((c: { id: string }) => c.id)).toContain(id);

    const claim = await request(app.url, 'POST', `/api/conversations/${id}/claim`, { token: agent.token });
    expect(claim.status).toBe(200);
    expect(claim.body.conversation).toMatchObject({ status: 'assigned', assigneeId: agent.id });

    // Agent replies: the employee sees it live. An internal note never reaches the employee.
    const note = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: agent.token,
      body: { body: 'note: check the HR policy PDF', internal: true },
    });
    expect(note.status).toBe(201);
    const reply = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: agent.token,
      body: { body: '您好，我是李，年假是15天。' },
    });
    const live = await employeeSocket.waitFor(
      (f) => f.type === 'message.created' && f.message.id === reply.body.message.id,
    );
    expect(live.message).toMatchObject({
      senderType: 'agent',
      senderName: 'Agent Li',
      body: '您好，我是李，年假是15天。',
    });
    await agentSocket.waitFor((f) => f.type === 'message.created' && f.message.id === note.body.message.id);
    expect(employeeSocket.frames.some((f) => f.type === 'message.created' && f.message.internal)).toBe(false);
    const seen = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: employee.token });
    expect(seen.body.items.some((m: { internal: boolean }) => m.internal)).toBe(false);
    const agentView = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: agent.token });
    expect(agentView.body.items.some((m: { internal: boolean }) => m.internal)).toBe(true);

    // Typing and read receipts reach the other side.
    agentSocket.send({ type: 'typing', conversationId: id });
    await employeeSocket.waitFor((f) => f.type === 'typing' && f.conversationId === id && f.userId === agent.id);
    employeeSocket.send({ type: 'read', conversationId: id, messageId: reply.body.message.id });
    await agentSocket.waitFor(
      (f) => f.type === 'read' && f.userId === employee.id && f.messageId === reply.body.message.id,
    );

    const resolved = await request(app.url, 'POST', `/api/conversations/${id}/resolve`, { token: agent.token });
    expect(resolved.body.conversation.status).toBe('resolved');

    // A new message reopens it to the bot.
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: '还有一个问题' },
    });
    expect(
      (await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token })).body.conversation.status,
    ).toBe('bot');

    // Back with the bot, the conversation is the employee's alone again: the agent left it.
    expect((await request(app.url, 'GET', `/api/conversations/${id}/events`, { token: agent.token })).status).toBe(404);
    const events = await request(app.url, 'GET', `/api/conversations/${id}/events`, { token: admin.token });
    expect(
      events.body.items.map((e: { type: string; reason: string; from: string; to: string }) => [
        e.type,
        e.from,
        e.to,
        e.reason,
      ]),
    ).toEqual([
      ['handoff', 'bot', 'queued', 'keyword'],
      ['claim', 'queued', 'assigned', 'agent_claim'],
      ['resolve', 'assigned', 'resolved', 'agent_resolved'],
      ['reopen', 'resolved', 'bot', 'new_message'],
    ]);

    // Someone who is not a member gets 404 and heard nothing of it.
    expect((await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: outsider.token })).status).toBe(
      404,
    );
    expect(outsiderSocket.frames.filter((f) => JSON.stringify(f).includes(id))).toEqual([]);

    await Promise.all([employeeSocket.close(), agentSocket.close(), outsiderSocket.close()]);
  });

  it('returns the original message for a resend with the same clientId, even under 200 concurrent sends', async () => {
    // A support conversation: no bot answers to wait for, only the sends themselves.
    const { body } = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { kind: 'support' },
    });
    const id = body.conversation.id;
    const sends = Array.from({ length: 200 }, (_, i) =>
      request(app.url, 'POST', `/api/conversations/${id}/messages`, {
        token: employee.token,
        body: { body: `message ${i % 20}`, clientId: `burst-${i % 20}` },
      }),
    );
    const results = await Promise.all(sends);
    expect(results.every((r) => r.status === 201)).toBe(true);
    const byClient = new Map<string, Set<number>>();
    for (const r of results) {
      const set = byClient.get(r.body.message.clientId) ?? new Set();
      set.add(r.body.message.id);
      byClient.set(r.body.message.clientId, set);
    }
    expect([...byClient.values()].every((ids) => ids.size === 1)).toBe(true);
    const { rows } = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND sender_type = 'user'`,
      [id],
    );
    expect(rows[0]!.n).toBe(20);
  });

  it('in a group chat too: a resend returns the original under concurrent sends, a clientId from another conversation is refused, and the sender has read their own message', async () => {
    const colleague = await newUser(app, { name: 'Colleague' });
    const create = (title: string) =>
      request(app.url, 'POST', '/api/conversations', {
        token: employee.token,
        body: { kind: 'group', title, memberIds: [colleague.id] },
      });
    const [group, other] = (await Promise.all([create('Team'), create('Other team')])).map(
      (r) => r.body.conversation.id as string,
    );
    const colleagueSocket = await connectSocket(app.url, colleague.token);
    const sends = Array.from({ length: 60 }, (_, i) =>
      request(app.url, 'POST', `/api/conversations/${group}/messages`, {
        token: employee.token,
        body: { body: `note ${i % 6}`, clientId: `group-${i % 6}` },
      }),
    );
    const results = await Promise.all(sends);
    expect(results.map((r) => r.status)).toEqual(sends.map(() => 201));
    const idsByClient = new Map<string, Set<number>>();
    for (const r of results)
      idsByClient.set(
        r.body.message.clientId,
        (idsByClient.get(r.body.message.clientId) ?? new Set()).add(r.body.message.id),
      );
    expect([...idsByClient.values()].map((ids) => ids.size)).toEqual([1, 1, 1, 1, 1, 1]);
    // The colleague hears each message once.
    const ids = [...idsByClient.values()].map((set) => [...set][0]!).sort((a, b) => a - b);
    await colleagueSocket.waitFor((f) => f.type === 'message.created' && f.message.id === ids[5]);
    await new Promise((r) => setTimeout(r, 200));
    expect(
      colleagueSocket.frames
        .filter((f) => f.type === 'message.created')
        .map((f) => f.message.id)
        .sort((a: number, b: number) => a - b),
    ).toEqual(ids);

    const reused = await request(app.url, 'POST', `/api/conversations/${other}/messages`, {
      token: employee.token,
      body: { body: 'again', clientId: 'group-0' },
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('client_id_reused');

    const list = await request(app.url, 'GET', '/api/conversations', { token: employee.token });
    const mine = list.body.items.find((c: { id: string }) => c.id === group);
    expect(mine.unreadCount).toBe(0);
    const theirs = (await request(app.url, 'GET', '/api/conversations', { token: colleague.token })).body.items.find(
      (c: { id: string }) => c.id === group,
    );
    expect(theirs.unreadCount).toBe(6);
    await colleagueSocket.close();
  });
});
