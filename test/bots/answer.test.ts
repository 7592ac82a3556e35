import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { connectSocket, type TestSocket } from '../support/ws-client.ts';

const LEAVE_POLICY = {
  title: 'Leave policy 2026',
  text: 'Annual leave: every full-time employee receives 15 days of paid annual leave per year. Unused days expire on 31 March of the following year.\n\nSick leave requires a doctor note after three consecutive days.',
};
const EXPENSES = {
  title: '差旅报销制度',
  text: '员工出差的住宿费用标准为每晚不超过六百元。报销须在出差结束后三十天内提交，并附上发票原件。',
};

async function ask(app: TestApp, user: TestUser, botId: string, question: string) {
  const conversation = await request(app.url, 'POST', '/api/conversations', { token: user.token, body: { botId } });
  const id: string = conversation.body.conversation.id;
  const posted = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
    token: user.token,
    body: { body: question },
  });
  expect(posted.status).toBe(201);
  return { id, questionId: posted.body.message.id as number };
}

function completedIn(socket: TestSocket, conversationId: string, timeoutMs = 15_000) {
  return socket.waitFor(
    (f) =>
      f.type === 'message.completed' && f.message.conversationId === conversationId && f.message.senderType === 'bot',
    timeoutMs,
  );
}

describe.each(backends)('bot answers on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let agent: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    model = await startFakeOpenAi();
    app = await startTestApp(backend, {
      env: {
        OPENAI_BASE_URL: model.baseUrl,
        CHAT_MODEL: 'fake-model',
        MODEL_TIMEOUT_MS: '1500',
        MODEL_IDLE_TIMEOUT_MS: '1500',
        MODEL_ATTEMPTS: '2',
      },
    });
    [admin, employee, agent] = await Promise.all([
      newUser(app, { role: 'admin' }),
      newUser(app),
      newUser(app, { role: 'agent' }),
    ]);
    ({ collectionId } = await newKnowledge(app, admin, [LEAVE_POLICY, EXPENSES]));
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  it('streams a grounded answer delta by delta and stores it with the cited passage', async () => {
    model.set(() => ({
      reply: ['Full-time ', 'employees get ', '15 days ', 'of paid annual leave [1].'],
      chunkDelayMs: 30,
    }));
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const socket = await connectSocket(app.url, employee.token);
    const { id } = await ask(app, employee, bot.id, 'How many days of annual leave do I get?');
    const completed = await completedIn(socket, id);
    const deltas = socket.frames
      .filter((f) => f.type === 'message.delta' && f.conversationId === id)
      .map((f) => f.delta);
    expect(deltas).toEqual(['Full-time ', 'employees get ', '15 days ', 'of paid annual leave [1].']);
    expect(completed.message).toMatchObject({
      status: 'complete',
      body: 'Full-time employees get 15 days of paid annual leave [1].',
    });
    expect(completed.message.citations).toHaveLength(1);
    expect(completed.message.citations[0]).toMatchObject({ index: 1, title: 'Leave policy 2026' });
    expect(completed.message.citations[0].snippet).toContain('15 days');
    // The model saw the retrieved passage, numbered, and the question.
    // The answer's call (a title for the conversation may be asked for after it).
    const call = model.calls.filter((c) => c.body.messages[0]!.role === 'system').at(-1)!;
    expect(call.body.stream).toBe(true);
    expect(call.body.messages.at(-1)!.content).toContain('[1] Leave policy 2026');
    // Usage was recorded per bot and user; the retrieval was audited.
    const usage = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM llm_usage WHERE bot_id = $1 AND user_id = $2 AND kind = 'answer' AND completion_tokens > 0`,
      [bot.id, employee.id],
    );
    expect(usage.rows[0]!.n).toBe(1);
    const audit = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM audit_log WHERE action = 'retrieval.shown' AND target_id = $1`,
      [employee.id],
    );
    expect(audit.rows[0]!.n).toBeGreaterThanOrEqual(1);
    await socket.close();
  });

  it('says the knowledge base has nothing and offers a person when retrieval is not confident', async () => {
    const calls = model.calls.length;
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.99 } });
    const socket = await connectSocket(app.url, employee.token);
    const { id } = await ask(app, employee, bot.id, 'What is the capital of Mongolia?');
    const created = await socket.waitFor(
      (f) => f.type === 'message.created' && f.message.conversationId === id && f.message.senderType === 'bot',
    );
    expect(created.message.body).toContain("couldn't find anything");
    expect(created.message.meta ?? {}).toBeDefined();
    // No answer asked of the model for an unanswerable question (only the handoff classifier read it).
    // (Nor a title: an earlier conversation's may still be asked for.)
    const answerCalls = model.calls
      .slice(calls)
      .filter((c) => !/"wants_person"|short title/.test(c.body.messages[0]!.content));
    expect(answerCalls).toEqual([]);
    const conversation = await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token });
    expect(conversation.body.conversation.status).toBe('bot'); // offered, not started
    await socket.close();
  });

  it('starts the handoff itself on low confidence when the bot is set to', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.99, auto: true } });
    const { id } = await ask(app, employee, bot.id, '公司的股票代码是多少？');
    for (let i = 0; i < 100; i++) {
      const c = await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token });
      if (c.body.conversation.status === 'queued') {
        expect(c.body.conversation.handoffReason).toBe('low_confidence');
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('conversation never queued');
  });

  it('stops streaming when an agent claims mid-answer, and no bot message follows', async () => {
    model.set(() => ({ reply: Array.from({ length: 40 }, (_, i) => `word${i} `), chunkDelayMs: 50 }));
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const socket = await connectSocket(app.url, employee.token);
    const { id } = await ask(app, employee, bot.id, 'How many days of annual leave do I get?');
    await socket.waitFor((f) => f.type === 'message.delta' && f.conversationId === id);
    await request(app.url, 'POST', `/api/conversations/${id}/handoff`, { token: employee.token, body: {} });
    const claim = await request(app.url, 'POST', `/api/conversations/${id}/claim`, { token: agent.token });
    expect(claim.status).toBe(200);
    await socket.waitFor((f) => f.type === 'message.updated' && f.message.conversationId === id && f.message.deletedAt);
    await new Promise((r) => setTimeout(r, 300));
    const deltasAfter = socket.frames.filter((f) => f.type === 'message.delta' && f.conversationId === id).length;
    await new Promise((r) => setTimeout(r, 500));
    expect(socket.frames.filter((f) => f.type === 'message.delta' && f.conversationId === id).length).toBe(deltasAfter);
    const history = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: employee.token });
    expect(history.body.items.filter((m: { senderType: string }) => m.senderType === 'bot')).toEqual([]);
    expect(socket.frames.some((f) => f.type === 'message.completed' && f.message.conversationId === id)).toBe(false);
    await socket.close();
  });

  it('turns model failures (500s, then a hang) into a failed message with an offer, never a stuck reply', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const socket = await connectSocket(app.url, employee.token);
    model.set(() => ({ status: 500 }));
    const first = await ask(app, employee, bot.id, 'How many days of annual leave do I get?');
    const failed = await completedIn(socket, first.id);
    expect(failed.message).toMatchObject({ status: 'failed' });
    expect(failed.message.body).toContain('talk to a person');

    model.set(() => ({ hang: true }));
    const second = await ask(app, employee, bot.id, 'How many days of annual leave do I get?');
    const timedOut = await completedIn(socket, second.id, 20_000);
    expect(timedOut.message.status).toBe('failed');
    const c = await request(app.url, 'GET', `/api/conversations/${second.id}`, { token: employee.token });
    expect(c.body.conversation.status).toBe('bot');
    const streaming = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE status = 'streaming' AND conversation_id = $1`,
      [second.id],
    );
    expect(streaming.rows[0]!.n).toBe(0);
    await socket.close();
  });
});

describe.each(backends)('offline answers on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin' }), newUser(app)]);
    ({ collectionId } = await newKnowledge(app, admin, [LEAVE_POLICY, EXPENSES]));
  });
  afterAll(() => app?.close());

  it('quotes the right passage with its citation, labelled as an offline answer, in the question language', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const socket = await connectSocket(app.url, employee.token);
    const en = await ask(app, employee, bot.id, 'How many days of paid annual leave do employees receive?');
    const enAnswer = await completedIn(socket, en.id);
    expect(enAnswer.message.body).toContain('Offline answer');
    expect(enAnswer.message.body).toContain('15 days of paid annual leave');
    expect(enAnswer.message.citations.map((c: { title: string }) => c.title)).toEqual(['Leave policy 2026']);

    const zh = await ask(app, employee, bot.id, '出差住宿每晚标准是多少？');
    const zhAnswer = await completedIn(socket, zh.id);
    expect(zhAnswer.message.body).toContain('离线回答');
    expect(zhAnswer.message.body).toContain('六百元');
    expect(zhAnswer.message.citations.map((c: { title: string }) => c.title)).toEqual(['差旅报销制度']);
    await socket.close();
  });
});
