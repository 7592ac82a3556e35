import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortTitle } from '../../server/src/core/conversations/conversation-title.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { startFakeOpenAi, type Behaviour, type ChatCall } from '../support/fake-openai.ts';
import { newApiBot, newGroup, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { until } from '../support/wait.ts';
import { connectSocket } from '../support/ws-client.ts';

const LEAVE_POLICY = {
  title: 'Leave policy 2026',
  text: 'Annual leave: every full-time employee receives 15 days of paid annual leave per year. Unused days expire on 31 March of the following year.\n\nSick leave requires a doctor note after three consecutive days.',
};

const ANNUAL_LEAVE_ZH = { title: '年假制度', text: '全职员工每年享有十五天带薪年假。未休年假在次年三月底前有效。' };

const isAnswer = (call: ChatCall) => call.body.messages[0]?.role === 'system';
const isTitle = (call: ChatCall) => call.body.messages.at(-1)?.content.includes('short title') === true;

/** The fake model: a slow streamed answer (or `answer`), a title, and intents that want nothing. */
function behaviour(answer: Behaviour, title = 'Annual leave allowance') {
  return (call: ChatCall): Behaviour => {
    if (isAnswer(call)) return answer;
    if (isTitle(call)) return { reply: title };
    return { reply: '{"wants_person": 0, "frustrated": 0, "complaint": 0}' };
  };
}

async function ask(app: TestApp, user: TestUser, botId: string, question: string) {
  const created = await request(app.url, 'POST', '/api/conversations', { token: user.token, body: { botId } });
  const id: string = created.body.conversation.id;
  const posted = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
    token: user.token,
    body: { body: question },
  });
  expect(posted.status).toBe(201);
  return id;
}

async function botMessages(app: TestApp, user: TestUser, conversationId: string) {
  const history = await request(app.url, 'GET', `/api/conversations/${conversationId}/messages`, {
    token: user.token,
  });
  return (history.body.items as { senderType: string; status: string; body: string; outcome: string }[]).filter(
    (m) => m.senderType === 'bot',
  );
}

const SLOW_ANSWER: Behaviour = {
  reply: ['Full-time ', 'employees ', 'get ', '15 days [1]', ' of paid', ' annual', ' leave', ' and more', '.'],
  chunkDelayMs: 400,
};

describe('short titles from the first question', () => {
  it('strips Markdown, collapses whitespace and cuts at a word, or at a character in Chinese', () => {
    expect(shortTitle('## How **many** days of `annual leave`\n\n do I   get?')).toBe(
      'How many days of annual leave do I get?',
    );
    const long = shortTitle(
      'What is the [travel policy](https://x.test) for booking international flights in business class?',
    );
    expect([...long].length).toBeLessThanOrEqual(40);
    expect(long).toBe('What is the travel policy for booking…');
    const chinese = shortTitle(
      '请问出差住宿的报销标准是多少？每晚的上限是六百元吗？还需要提交哪些发票和审批材料才可以报销呢？',
    );
    expect([...chinese].length).toBe(40);
    expect(chinese.endsWith('…')).toBe(true);
  });
});

describe.each(backends)('employee chat on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let agent: TestUser;
  let botId: string;
  let documentId: string;

  beforeAll(async () => {
    model = await startFakeOpenAi();
    app = await startTestApp(backend, {
      env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', MODEL_ATTEMPTS: '1' },
    });
    [admin, employee, agent] = await Promise.all([
      newUser(app, { role: 'admin' }),
      newUser(app),
      newUser(app, { role: 'agent' }),
    ]);
    const knowledge = await newKnowledge(app, admin, [LEAVE_POLICY, ANNUAL_LEAVE_ZH]);
    documentId = knowledge.documentIds[0]!;
    botId = (await newApiBot(app, admin, { collectionIds: [knowledge.collectionId], handoff: { minScore: 0.05 } })).id;
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  it('Stop aborts the model request and keeps what streamed, marked stopped', async () => {
    model.set(behaviour(SLOW_ANSWER));
    const socket = await connectSocket(app.url, employee.token);
    const id = await ask(app, employee, botId, 'How many days of annual leave do I get?');
    const answerCall = () => model.calls.findIndex(isAnswer);
    // Two pieces have streamed: the bot is answering.
    await socket.waitForCount((f) => f.type === 'message.delta' && f.conversationId === id, 2, 10_000);
    const stopped = await request(app.url, 'POST', `/api/conversations/${id}/stop`, { token: employee.token });
    expect(stopped.status).toBe(202);

    const completed = await socket.waitFor(
      (f) => f.type === 'message.completed' && f.message.conversationId === id,
      10_000,
    );
    expect(completed.message.outcome).toBe('stopped');
    expect(completed.message.status).toBe('complete');
    expect(completed.message.body.startsWith('Full-time employees ')).toBe(true);
    expect(completed.message.body).not.toContain('and more');
    // The fake model saw its connection closed before the reply ended.
    await until(() => model.aborted.includes(answerCall()), 'the model request to be aborted');
    const [stored] = await botMessages(app, employee, id);
    expect(stored).toMatchObject({ status: 'complete', outcome: 'stopped' });
    expect(stored!.body).toBe(completed.message.body);
    await socket.close();
  });

  it('Stop while the bot is still thinking ends the turn without an answer', async () => {
    model.set(behaviour({ ...SLOW_ANSWER, firstTokenDelayMs: 3000 }));
    const before = model.calls.length;
    const id = await ask(app, employee, botId, 'How many days of annual leave do I get?');
    await until(() => model.calls.slice(before).some(isAnswer), 'the answer request');
    const index = model.calls.findIndex((c, i) => i >= before && isAnswer(c));
    await request(app.url, 'POST', `/api/conversations/${id}/stop`, { token: employee.token });
    const [stored] = await until(async () => {
      const bots = await botMessages(app, employee, id);
      return bots.length && bots[0]!.status !== 'streaming' ? bots : undefined;
    }, 'the stopped answer');
    expect(stored).toMatchObject({ status: 'complete', outcome: 'stopped', body: '' });
    await until(() => model.aborted.includes(index), 'the model request to be aborted');
  });

  it('only a member may stop the bot', async () => {
    model.set(behaviour({ reply: 'Fifteen days [1].' }));
    const id = await ask(app, employee, botId, 'How many days of annual leave do I get?');
    const other = await newUser(app);
    const refused = await request(app.url, 'POST', `/api/conversations/${id}/stop`, { token: other.token });
    expect(refused.status).toBe(404);
    const asked = await request(app.url, 'POST', `/api/conversations/${id}/stop`, { token: employee.token });
    expect(asked.status).toBe(202);
  });

  it('titles a conversation with the cleaned question, then with a model-written title after the first answer', async () => {
    model.set(behaviour({ reply: 'Full-time employees get 15 days [1].' }, '"Annual leave allowance."'));
    const socket = await connectSocket(app.url, employee.token);
    const id = await ask(app, employee, botId, '**How many** days of   annual leave do I get?');
    const first = await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token });
    expect(first.body.conversation.title).toBe('How many days of annual leave do I get?');
    const renamed = await socket.waitFor(
      (f) =>
        f.type === 'conversation.updated' &&
        f.conversation.id === id &&
        f.conversation.title === 'Annual leave allowance',
      10_000,
    );
    expect(renamed.conversation.title).toBe('Annual leave allowance');
    const titleCall = model.calls.find(
      (c) => isTitle(c) && c.body.messages[0]!.content.includes('annual leave do I get'),
    );
    expect(titleCall?.body.messages[0]!.content).toContain('English');
    // A second question does not retitle it.
    const calls = model.calls.filter(isTitle).length;
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: 'And sick leave?' },
    });
    await until(
      async () => (await botMessages(app, employee, id)).filter((m) => m.status === 'complete').length >= 2,
      'the second answer',
    );
    const listed = await request(app.url, 'GET', '/api/conversations', { token: employee.token });
    expect(listed.body.items.find((c: { id: string }) => c.id === id).title).toBe('Annual leave allowance');
    expect(model.calls.filter(isTitle).length).toBe(calls);
    await socket.close();
  });

  it('asks for a Chinese title for a Chinese question', async () => {
    model.set(behaviour({ reply: '每年十五天 [1]。' }, '年假天数'));
    const id = await ask(app, employee, botId, '我每年有多少天年假？');
    await until(async () => {
      const c = await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token });
      return c.body.conversation.title === '年假天数';
    }, 'the Chinese title');
    const titleCall = model.calls.find((c) => isTitle(c) && c.body.messages[0]!.content.includes('我每年有多少天年假'));
    expect(titleCall?.body.messages[0]!.content).toContain('Chinese');
  });

  it('stores one satisfaction rating per conversation and user, changeable, and analytics shows CSAT', async () => {
    const before = await request(app.url, 'GET', '/api/admin/analytics', { token: admin.token });
    expect(before.status).toBe(200);
    const baseline = before.body.analytics.csat as { average: number | null; count: number };

    const support = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { kind: 'support' },
    });
    const id: string = support.body.conversation.id;
    // Not resolved yet: nothing to rate.
    const early = await request(app.url, 'PUT', `/api/conversations/${id}/rating`, {
      token: employee.token,
      body: { rating: 5 },
    });
    expect(early.status).toBe(409);
    await request(app.url, 'POST', `/api/conversations/${id}/claim`, { token: agent.token });
    await request(app.url, 'POST', `/api/conversations/${id}/resolve`, { token: agent.token });

    const rated = await request(app.url, 'PUT', `/api/conversations/${id}/rating`, {
      token: employee.token,
      body: { rating: 2, comment: 'Slow' },
    });
    expect(rated.status).toBe(200);
    const changed = await request(app.url, 'PUT', `/api/conversations/${id}/rating`, {
      token: employee.token,
      body: { rating: 4, comment: 'Solved in the end' },
    });
    expect(changed.body.rating).toMatchObject({ rating: 4, comment: 'Solved in the end' });
    const mine = await request(app.url, 'GET', `/api/conversations/${id}/rating`, { token: employee.token });
    expect(mine.body.rating).toMatchObject({ rating: 4, comment: 'Solved in the end' });
    const outOfRange = await request(app.url, 'PUT', `/api/conversations/${id}/rating`, {
      token: employee.token,
      body: { rating: 6 },
    });
    expect(outOfRange.status).toBe(400);
    const stranger = await newUser(app);
    const notMine = await request(app.url, 'PUT', `/api/conversations/${id}/rating`, {
      token: stranger.token,
      body: { rating: 1 },
    });
    expect(notMine.status).toBe(404);
    // The agent who resolved it does not rate their own help.
    const byAgent = await request(app.url, 'PUT', `/api/conversations/${id}/rating`, {
      token: agent.token,
      body: { rating: 5 },
    });
    expect(byAgent.status).toBe(403);

    const after = await request(app.url, 'GET', '/api/admin/analytics', { token: admin.token });
    const csat = after.body.analytics.csat as { average: number; count: number };
    expect(csat.count).toBe(baseline.count + 1);
    const expected = ((baseline.average ?? 0) * baseline.count + 4) / (baseline.count + 1);
    expect(csat.average).toBeCloseTo(expected, 5);
  });

  it('opens a cited document for a reader the read rule admits, and is 404 for anyone else', async () => {
    const readable = await request(app.url, 'GET', `/api/documents/${documentId}/passages`, { token: employee.token });
    expect(readable.status).toBe(200);
    expect(readable.body.document.title).toBe('Leave policy 2026');
    expect(readable.body.document.passages.map((p: { text: string }) => p.text).join('\n')).toContain('15 days');

    const hr = await newGroup(app);
    const restricted = await newKnowledge(app, admin, [{ title: 'Salaries', text: 'Salary bands are secret.' }], {
      groups: [hr],
    });
    const secret = restricted.documentIds[0]!;
    const refused = await request(app.url, 'GET', `/api/documents/${secret}/passages`, { token: employee.token });
    expect(refused.status).toBe(404);
    const member = await newUser(app, { groups: [hr] });
    const allowed = await request(app.url, 'GET', `/api/documents/${secret}/passages`, { token: member.token });
    expect(allowed.status).toBe(200);
  });
});

const sharedRedis = redisUrl && backends.includes('postgres') ? [redisUrl] : [];

describe.each(sharedRedis)('Stop across processes (Redis at %s)', (url) => {
  it('a Stop asked of one server aborts the answer a worker streams', async () => {
    const model = await startFakeOpenAi(behaviour(SLOW_ANSWER));
    const prefix = uniquePrefix('stop');
    const env = { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', MODEL_ATTEMPTS: '1', REDIS_PREFIX: prefix };
    // `worker` runs the answer jobs; `web` only serves HTTP over the same database and Redis.
    const worker = await startTestApp('postgres', { redisUrl: url, env });
    const web = await startTestApp('postgres', {
      redisUrl: url,
      env,
      databaseUrl: worker.databaseUrl!,
      processJobs: false,
    });
    try {
      const admin = await newUser(web, { role: 'admin' });
      const employee = await newUser(web);
      const knowledge = await newKnowledge(worker, admin, [LEAVE_POLICY]);
      const bot = await newApiBot(web, admin, { collectionIds: [knowledge.collectionId], handoff: { minScore: 0.05 } });
      const socket = await connectSocket(web.url, employee.token);
      const id = await ask(web, employee, bot.id, 'How many days of annual leave do I get?');
      await socket.waitForCount((f) => f.type === 'message.delta' && f.conversationId === id, 2, 15_000);
      await request(web.url, 'POST', `/api/conversations/${id}/stop`, { token: employee.token });
      const completed = await socket.waitFor(
        (f) => f.type === 'message.completed' && f.message.conversationId === id,
        10_000,
      );
      expect(completed.message.outcome).toBe('stopped');
      await until(() => model.aborted.includes(model.calls.findIndex(isAnswer)), 'the model request to be aborted');
      await socket.close();
    } finally {
      await web.close();
      await worker.close();
      await model.close();
      await deleteKeys(url, prefix);
    }
  });
});
