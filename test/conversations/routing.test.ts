import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageRepository } from '../../server/src/core/conversations/message.repository.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newBot, type TestUser } from '../support/fixtures.ts';
import { sleep } from '../support/wait.ts';
import { connectSocket } from '../support/ws-client.ts';
import {
  apiOf,
  eventsOf,
  expectError,
  expectStatus,
  membersOf,
  quickUser,
  resetQueue,
  say,
  settle,
  type Api,
} from './helpers.ts';

describe.each(backends)('routing between the bot and people on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let employee: TestUser;
  let a1: TestUser;
  let a2: TestUser;
  let admin: TestUser;
  let botId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    api = apiOf(app);
    [employee, a1, a2, admin] = await Promise.all([
      quickUser(app, { name: 'Employee' }),
      quickUser(app, { role: 'agent', name: 'Agent One' }),
      quickUser(app, { role: 'agent', name: 'Agent Two' }),
      quickUser(app, { role: 'admin' }),
    ]);
    botId = await newBot(app, { triggerWords: ['我要投诉', 'Escalate Please'] });
  });
  afterAll(() => app?.close());

  const newBotConversation = async (user = employee) => {
    const res = await api.post(user.token, '/api/conversations', { botId });
    expectStatus(res, 201);
    return res.body.conversation.id as string;
  };
  const statusOf = async (id: string) =>
    (
      await app.services.db.query<{ status: string; assignee_id: string | null }>(
        'SELECT status, assignee_id FROM conversations WHERE id = $1',
        [id],
      )
    ).rows[0]!;
  const act = (user: TestUser, id: string, action: string, body: unknown = {}) =>
    api.post(user.token, `/api/conversations/${id}/${action}`, body);

  it('walks a bot conversation through every transition over the API, each one event with who, when and why', async () => {
    const id = await newBotConversation();
    const [s1, s2] = await Promise.all([connectSocket(app.url, a1.token), connectSocket(app.url, a2.token)]);

    // The handoff button.
    const handed = await act(employee, id, 'handoff');
    expectStatus(handed, 200);
    expect(handed.body.conversation).toMatchObject({
      status: 'queued',
      handoffReason: 'user_request',
      assigneeId: null,
    });
    expect(handed.body.conversation.queuedAt).toEqual(expect.any(String));

    const claimed = await act(a1, id, 'claim');
    expectStatus(claimed, 200);
    expect(claimed.body.conversation).toMatchObject({ status: 'assigned', assigneeId: a1.id });
    expect(await membersOf(app, id)).toContain(a1.id);

    // Transfer to another agent: the old one leaves, the new one joins and hears the employee.
    expectError(await act(a2, id, 'transfer', { agentId: a2.id }), 403, 'forbidden');
    expectError(await act(employee, id, 'transfer', { agentId: a2.id }), 403);
    const transferred = await act(a1, id, 'transfer', { agentId: a2.id });
    expectStatus(transferred, 200);
    expect(transferred.body.conversation).toMatchObject({ status: 'assigned', assigneeId: a2.id });
    const members = await membersOf(app, id);
    expect(members).toContain(a2.id);
    expect(members).not.toContain(a1.id);
    const question = await say(api, employee, id, 'are you still there?');
    await s2.waitFor((f) => f.type === 'message.created' && f.message.id === question.id);
    await settle();
    expect(s1.frames.some((f) => f.type === 'message.created' && f.message.id === question.id)).toBe(false);
    expectError(await api.post(a1.token, `/api/conversations/${id}/messages`, { body: 'I left' }), 403);

    // Back to the team: nobody's any more, in the queue again.
    const requeued = await act(a2, id, 'transfer', {});
    expect(requeued.body.conversation).toMatchObject({ status: 'queued', assigneeId: null });
    expect(await membersOf(app, id)).not.toContain(a2.id);

    expectStatus(await act(a1, id, 'claim'), 200);
    expectError(await act(a2, id, 'resolve'), 403, 'forbidden');
    const resolved = await act(a1, id, 'resolve');
    expect(resolved.body.conversation).toMatchObject({ status: 'resolved' });
    expect(resolved.body.conversation.resolvedAt).toEqual(expect.any(String));

    // A new message from the employee reopens it — to the bot, for a bot conversation.
    await say(api, employee, id, 'one more thing');
    expect(await statusOf(id)).toEqual({ status: 'bot', assignee_id: null });

    expectStatus(await act(employee, id, 'handoff'), 200);
    expectStatus(await act(a1, id, 'claim'), 200);
    expectError(await act(a2, id, 'return-to-bot'), 403, 'forbidden');
    const returned = await act(a1, id, 'return-to-bot');
    expect(returned.body.conversation).toMatchObject({ status: 'bot', assigneeId: null });
    // Back with the bot, the employee's chat is private again: the agent neither sees nor hears it.
    expect(await membersOf(app, id)).toEqual([employee.id]);
    const privateAgain = await say(api, employee, id, 'a question for the bot only');
    await settle();
    expect(s1.frames.some((f) => f.type === 'message.created' && f.message.id === privateAgain.id)).toBe(false);
    expectError(await api.get(a1.token, `/api/conversations/${id}/messages`), 404);

    const events = await eventsOf(app, id);
    expect(events.map((e) => [e.type, e.from_status, e.to_status, e.reason, e.actor_id])).toEqual([
      ['handoff', 'bot', 'queued', 'user_request', employee.id],
      ['claim', 'queued', 'assigned', 'agent_claim', a1.id],
      ['transfer', 'assigned', 'assigned', 'agent_transfer', a1.id],
      ['requeue', 'assigned', 'queued', 'agent_transfer', a2.id],
      ['claim', 'queued', 'assigned', 'agent_claim', a1.id],
      ['resolve', 'assigned', 'resolved', 'agent_resolved', a1.id],
      ['reopen', 'resolved', 'bot', 'new_message', employee.id],
      ['handoff', 'bot', 'queued', 'user_request', employee.id],
      ['claim', 'queued', 'assigned', 'agent_claim', a1.id],
      ['return_to_bot', 'assigned', 'bot', 'agent_returned', a1.id],
    ]);
    expect(events[2]!.details).toMatchObject({ from: a1.id, to: a2.id });
    const times = events.map((e) => e.created_at.getTime());
    expect(times).toEqual([...times].sort((x, y) => x - y));
    // The same history over the API, for agents.
    const listed = await api.get(admin.token, `/api/conversations/${id}/events`);
    expect(listed.body.items.map((e: { type: string }) => e.type)).toEqual(events.map((e) => e.type));
    expect(listed.body.items[0]).toMatchObject({
      actorId: employee.id,
      reason: 'user_request',
      createdAt: expect.any(String),
    });
    await Promise.all([s1.close(), s2.close()]);
  });

  it('reopens a resolved support conversation into the queue; only bot conversations go back to a bot', async () => {
    const created = await api.post(employee.token, '/api/conversations', { kind: 'support' });
    expectStatus(created, 201);
    const id = created.body.conversation.id;
    expect(created.body.conversation.status).toBe('queued');
    expectStatus(await act(a1, id, 'claim'), 200);
    expectError(await act(a1, id, 'return-to-bot'), 409, 'invalid_transition');
    expectStatus(await act(a1, id, 'resolve'), 200);
    await say(api, employee, id, 'it broke again');
    const after = (await api.get(employee.token, `/api/conversations/${id}`)).body.conversation;
    expect(after).toMatchObject({ status: 'queued', assigneeId: null, queuePosition: expect.any(Number) });
    expect(await membersOf(app, id)).toEqual([employee.id]);
    expect((await eventsOf(app, id)).map((e) => [e.type, e.from_status, e.to_status, e.reason])).toEqual([
      ['handoff', null, 'queued', 'user_request'],
      ['claim', 'queued', 'assigned', 'agent_claim'],
      ['resolve', 'assigned', 'resolved', 'agent_resolved'],
      ['reopen', 'resolved', 'queued', 'new_message'],
    ]);
  });

  it('lets an admin transfer, resolve and return conversations assigned to someone else', async () => {
    const id = await newBotConversation();
    expectStatus(await act(employee, id, 'handoff'), 200);
    expectStatus(await act(a1, id, 'claim'), 200);
    expect((await act(admin, id, 'transfer', { agentId: a2.id })).body.conversation.assigneeId).toBe(a2.id);
    expect((await act(admin, id, 'return-to-bot')).body.conversation.status).toBe('bot');
    expectStatus(await act(employee, id, 'handoff'), 200);
    expectStatus(await act(a2, id, 'claim'), 200);
    expect((await act(admin, id, 'resolve')).body.conversation.status).toBe('resolved');
    // Employees cannot use the agent actions at all.
    expectError(await act(employee, id, 'claim'), 403);
    // A transfer must name an active agent.
    const other = await newBotConversation();
    expectStatus(await act(employee, other, 'handoff'), 200);
    expectStatus(await act(a1, other, 'claim'), 200);
    expectError(await act(a1, other, 'transfer', { agentId: employee.id }), 400, 'invalid_agent');
    expect(await statusOf(other)).toEqual({ status: 'assigned', assignee_id: a1.id });
  });

  it('refuses transitions the state machine does not allow with 409 invalid_transition, recording nothing', async () => {
    const queued = (await api.post(employee.token, '/api/conversations', { kind: 'support' })).body.conversation.id;
    const withBot = await newBotConversation();
    const resolved = (await api.post(employee.token, '/api/conversations', { kind: 'support' })).body.conversation.id;
    expectStatus(await act(a1, resolved, 'claim'), 200);
    expectStatus(await act(a1, resolved, 'resolve'), 200);
    const colleague = await quickUser(app);
    const direct = (await api.post(employee.token, '/api/conversations', { kind: 'direct', userId: colleague.id })).body
      .conversation.id;
    const before = await Promise.all([queued, withBot, resolved].map(async (id) => (await eventsOf(app, id)).length));

    expectError(await act(admin, queued, 'resolve'), 409, 'invalid_transition');
    expectError(await act(admin, queued, 'return-to-bot'), 409, 'invalid_transition');
    expectError(await act(admin, queued, 'transfer', { agentId: a1.id }), 409, 'invalid_transition');
    expectError(await act(employee, queued, 'handoff'), 409, 'invalid_transition');
    expectError(await act(admin, withBot, 'claim'), 409, 'invalid_transition');
    expectError(await act(admin, withBot, 'resolve'), 409, 'invalid_transition');
    expectError(await act(admin, resolved, 'claim'), 409, 'invalid_transition');
    expectError(await act(admin, resolved, 'resolve'), 409, 'invalid_transition');
    expectError(await act(employee, direct, 'handoff'), 409, 'invalid_transition');
    expectError(await act(admin, direct, 'claim'), 409, 'invalid_transition');
    // An agent does not even see a conversation that is with its bot: not found rather than a conflict.
    expectError(await act(a1, withBot, 'claim'), 404, 'not_found');

    const after = await Promise.all([queued, withBot, resolved].map(async (id) => (await eventsOf(app, id)).length));
    expect(after).toEqual(before);
    expect((await statusOf(queued)).status).toBe('queued');
    expect((await statusOf(withBot)).status).toBe('bot');
    expect((await statusOf(resolved)).status).toBe('resolved');
  });

  it("hands off on the user's own words in Chinese and English and on the bot's trigger words, but not on 人工智能", async () => {
    const cases: [string, string][] = [
      ['我要转人工', 'queued'],
      ['I want to talk to a human', 'queued'],
      ['Can I speak with a real person, please?', 'queued'],
      ['什么是人工智能？', 'bot'],
      ['我要投诉这个报销流程', 'queued'], // the bot's own trigger word
      ['escalate please, this is urgent', 'queued'], // trigger words match regardless of case
      ['How do humans talk to agents in the portal?', 'bot'],
    ];
    for (const [words, expected] of cases) {
      const id = await newBotConversation();
      await say(api, employee, id, words);
      const { status } = await statusOf(id);
      expect(status, words).toBe(expected);
      const events = await eventsOf(app, id);
      if (expected === 'queued') {
        expect(
          events.map((e) => [e.type, e.reason, e.actor_id]),
          words,
        ).toEqual([['handoff', 'keyword', employee.id]]);
        expect((await api.get(employee.token, `/api/conversations/${id}`)).body.conversation.handoffReason).toBe(
          'keyword',
        );
      } else {
        expect(events, words).toEqual([]);
      }
    }
  });

  it("hands off on the words and on a 👎 by the bot's settings, and tells the agents why over the socket", async () => {
    const messages = createMessageRepository(app.services.db);
    const socket = await connectSocket(app.url, a1.token);
    const queuedFrame = (id: string) =>
      socket.waitFor(
        (f) => f.type === 'conversation.updated' && f.conversation.id === id && f.conversation.status === 'queued',
      );
    const rateAnswer = async (id: string, bot: string) => {
      const answer = await messages.insertBotMessage({ conversationId: id, botId: bot, body: '-', status: 'complete' });
      expectStatus(await api.post(employee.token, `/api/messages/${answer!.id}/feedback`, { rating: -1 }), 200);
    };

    const asked = await newBotConversation();
    await say(api, employee, asked, '我要转人工');
    expect((await queuedFrame(asked)).conversation.handoffReason).toBe('keyword');

    const unhappy = await newBotConversation();
    await rateAnswer(unhappy, botId);
    expect((await queuedFrame(unhappy)).conversation.handoffReason).toBe('negative_feedback');
    const events = (await eventsOf(app, unhappy)).map((e) => [e.type, e.reason, e.actor_id]);
    expect(events).toEqual([['handoff', 'negative_feedback', employee.id]]);

    // A bot whose handoff is off ignores the 👎, but a person asked for in so many words still comes.
    const quiet = await newBot(app);
    await app.services.db.query(`UPDATE bots SET handoff = '{"enabled": false}' WHERE id = $1`, [quiet]);
    const id = (await api.post(employee.token, '/api/conversations', { botId: quiet })).body.conversation.id as string;
    await rateAnswer(id, quiet);
    expect(await statusOf(id)).toMatchObject({ status: 'bot' });
    await say(api, employee, id, 'I want to talk to a human');
    expect((await queuedFrame(id)).conversation.handoffReason).toBe('keyword');
    await socket.close();
  });

  it('lets exactly one of five agents claiming at once win', async () => {
    const agents = await Promise.all(Array.from({ length: 5 }, () => quickUser(app, { role: 'agent' })));
    for (let round = 0; round < 3; round += 1) {
      const id = (await api.post(employee.token, '/api/conversations', { kind: 'support' })).body.conversation.id;
      const results = await Promise.all(agents.map((agent) => act(agent, id, 'claim')));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      for (const loser of results.filter((r) => r.status !== 200))
        expectError(loser, 409, ['already_claimed', 'invalid_transition']);
      const winner = agents[results.indexOf(winners[0]!)]!;
      expect(await statusOf(id)).toEqual({ status: 'assigned', assignee_id: winner.id });
      const claims = (await eventsOf(app, id)).filter((e) => e.type === 'claim');
      expect(claims.map((e) => e.actor_id)).toEqual([winner.id]);
      const agentMembers = (await membersOf(app, id)).filter((m) => agents.some((a) => a.id === m));
      expect(agentMembers).toEqual([winner.id]);
    }
  });

  it('never lets the bot answer once people have the conversation, even when the claim lands mid-answer', async () => {
    const messages = createMessageRepository(app.services.db);
    const id = await newBotConversation();
    await say(api, employee, id, 'how many vacation days do I have?');
    // The bot starts streaming an answer while the conversation is still with it…
    const streaming = await messages.insertBotMessage({ conversationId: id, botId, body: '', status: 'streaming' });
    expect(streaming).toBeDefined();
    // …an agent claims it mid-answer…
    expectStatus(await act(employee, id, 'handoff'), 200);
    expectStatus(await act(a1, id, 'claim'), 200);
    // …and the answer can no longer be completed, nor a new one started.
    const completed = await messages.completeBotMessage(streaming!.id, {
      body: 'You have 15 days. [1]',
      status: 'complete',
      citations: [],
    });
    expect(completed).toBeUndefined();
    await messages.discardStreaming(streaming!.id);
    expect(
      await messages.insertBotMessage({ conversationId: id, botId, body: 'late answer', status: 'complete' }),
    ).toBeUndefined();

    const history = (await api.get(employee.token, `/api/conversations/${id}/messages`)).body.items as {
      id: number;
      senderType: string;
      body: string;
    }[];
    expect(history.some((m) => m.id === streaming!.id)).toBe(false);
    expect(history.some((m) => m.body.includes('15 days') || m.body === 'late answer')).toBe(false);

    // Queued (not yet claimed) is people's too.
    const waiting = await newBotConversation();
    expectStatus(await act(employee, waiting, 'handoff'), 200);
    expect(
      await messages.insertBotMessage({ conversationId: waiting, botId, body: 'sneaky', status: 'complete' }),
    ).toBeUndefined();
    const { rows } = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE conversation_id = ANY($1::uuid[]) AND body IN ('sneaky', 'late answer')`,
      [[id, waiting]],
    );
    expect(rows[0]!.n).toBe(0);
    // Back with the bot, it may answer again.
    expectStatus(await act(a1, id, 'return-to-bot'), 200);
    expect(
      await messages.insertBotMessage({ conversationId: id, botId, body: 'welcome back', status: 'complete' }),
    ).toBeDefined();
  });

  describe('the queue', () => {
    it('orders by priority then waiting time, and tells each employee their place as it moves', async () => {
      await resetQueue(app);
      await app.services.db.query('UPDATE conversations SET claimed_at = NULL'); // no claim history yet
      const employees = await Promise.all(Array.from({ length: 4 }, () => quickUser(app)));
      const ids: string[] = [];
      for (const e of employees) {
        ids.push((await api.post(e.token, '/api/conversations', { kind: 'support' })).body.conversation.id);
        await sleep(5);
      }
      const [c1, c2, c3, c4] = ids as [string, string, string, string];
      await app.services.db.query('UPDATE conversations SET priority = 5 WHERE id = $1', [c3]);

      const queue = await api.get(a1.token, '/api/conversations?status=queued');
      expect(queue.body.items.map((c: { id: string }) => c.id)).toEqual([c3, c1, c2, c4]);
      // Paged, the same order.
      const page1 = await api.get(a1.token, '/api/conversations?status=queued&limit=3');
      const page2 = await api.get(a1.token, `/api/conversations?status=queued&limit=3&cursor=${page1.body.next}`);
      expect([...page1.body.items, ...page2.body.items].map((c: { id: string }) => c.id)).toEqual([c3, c1, c2, c4]);
      expect(page2.body.next).toBeNull();

      const view = async (i: number) =>
        (await api.get(employees[i]!.token, `/api/conversations/${ids[i]}`)).body.conversation;
      expect((await Promise.all([0, 1, 2, 3].map(view))).map((c) => c.queuePosition)).toEqual([2, 3, 1, 4]);
      expect((await view(1)).estimatedWaitSeconds).toBeUndefined(); // nothing to estimate from yet

      // The second employee's waiting screen hears the line move, live.
      const waitingSocket = await connectSocket(app.url, employees[1]!.token);
      expectStatus(await act(a1, c3, 'claim'), 200);
      const moved = await waitingSocket.waitFor(
        (f) => f.type === 'conversation.updated' && f.conversation.id === c2 && f.conversation.queuePosition === 2,
      );
      expect(moved.conversation.estimatedWaitSeconds).toEqual(expect.any(Number));
      const second = await view(1);
      expect(second.queuePosition).toBe(2);
      expect(second.estimatedWaitSeconds).toEqual(expect.any(Number));
      expect(second.estimatedWaitSeconds).toBeGreaterThanOrEqual(0);
      expectStatus(await act(a2, c1, 'claim'), 200);
      expect((await view(1)).queuePosition).toBe(1);
      expect((await view(3)).queuePosition).toBe(2);
      expect((await view(0)).queuePosition).toBeUndefined(); // being helped
      await waitingSocket.waitFor(
        (f) => f.type === 'conversation.updated' && f.conversation.id === c2 && f.conversation.queuePosition === 1,
      );
      // Only their own conversation: nothing about the others waiting.
      expect(waitingSocket.frames.filter((f) => f.type === 'conversation.updated' && f.conversation.id !== c2)).toEqual(
        [],
      );
      await waitingSocket.close();
    });
  });
});
