import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';

/** A small HR handbook, as a new customer would load it on day one. */
const HANDBOOK = [
  {
    title: 'Hotel limits',
    text: 'Business travel hotels: the nightly hotel limit is 250 GBP in London, 180 EUR in Paris and 150 USD in other cities. Book through the travel portal.',
  },
  {
    title: 'Meal allowance',
    text: 'On business trips the daily meal allowance is 60 USD, paid with the next salary. Alcohol is not reimbursed.',
  },
  {
    title: 'Sick leave',
    text: 'Employees may take up to 10 paid sick days per year. A doctor note is required after three consecutive sick days.',
  },
  {
    title: 'Public holidays',
    text: 'The office is closed on public holidays. The holiday calendar for the year is published on the intranet in December.',
  },
  {
    title: 'Intranet',
    text: 'The intranet is at intranet.example. Sign in with your company account and badge number.',
  },
  { title: 'Parking', text: 'Employees park for free in garage B with their badge. Visitors park in garage A.' },
  {
    title: 'Laptops',
    text: 'Laptops are replaced every three years. Report a broken laptop or printer to the IT service desk.',
  },
  {
    title: '年假制度',
    text: '正式员工入职满一年后，每年享有十五天带薪年假。未休完的年假可以顺延到次年三月底。外包人员不享受带薪年假。',
  },
];

const ANSWERABLE = [
  { question: 'What is the hotel limit in London?', cites: 'Hotel limits' },
  { question: 'How many paid sick days do employees get per year?', cites: 'Sick leave' },
  { question: '正式员工每年有几天带薪年假？', cites: '年假制度' },
];
const OFF_TOPIC = ['Can I bring my dog to the office?', '公司的股票代码是什么？'];

interface Cited {
  documentId: string;
  title: string;
}

describe.each(backends)('one answer pipeline for the bot, the copilot and /v1 on %s (offline)', (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let agent: TestUser;
  let bot: { id: string; slug: string };
  let apiToken: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    [admin, employee, agent] = await Promise.all([
      newUser(app, { role: 'admin' }),
      newUser(app),
      newUser(app, { role: 'agent' }),
    ]);
    const { collectionId } = await newKnowledge(app, admin, HANDBOOK);
    bot = await newApiBot(app, admin, { collectionIds: [collectionId] });
    apiToken = (await request(app.url, 'POST', '/api/tokens', { token: employee.token, body: { name: 'v1' } })).body
      .token;
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The bot's reply in a new conversation, and that conversation. */
  async function askBot(question: string) {
    const c = await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { botId: bot.id } });
    const id: string = c.body.conversation.id;
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: question },
    });
    const reply = await until(async () => {
      const h = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: employee.token });
      return h.body.items.find(
        (m: { senderType: string; status: string }) => m.senderType === 'bot' && m.status !== 'streaming',
      );
    }, "the bot's reply");
    return { id, reply: reply as { outcome: string; body: string; citations: Cited[] } };
  }

  async function askV1(question: string) {
    const r = await request(app.url, 'POST', '/v1/chat/completions', {
      token: apiToken,
      body: { model: bot.slug, messages: [{ role: 'user', content: question }] },
    });
    expect(r.status).toBe(200);
    return r.body as { choices: { message: { content: string } }[]; citations: Cited[] };
  }

  async function askCopilot(conversationId: string) {
    await request(app.url, 'POST', `/api/conversations/${conversationId}/handoff`, {
      token: employee.token,
      body: {},
    });
    const r = await request(app.url, 'GET', `/api/conversations/${conversationId}/suggestion`, { token: agent.token });
    expect(r.status).toBe(200);
    return r.body.suggestion.reply as { body: string; citations: Cited[] };
  }

  const documents = (citations: Cited[]) => citations.map((c) => c.documentId).sort();

  it.each(ANSWERABLE)('answers "$question" from its passage, alike everywhere', async ({ question, cites }) => {
    const { id, reply } = await askBot(question);
    expect(reply.outcome).toBe('answered');
    expect(reply.citations.map((c) => c.title)).toContain(cites);
    const v1 = await askV1(question);
    expect(documents(v1.citations)).toEqual(documents(reply.citations));
    expect(v1.choices[0]!.message.content).toBe(reply.body);
    const draft = await askCopilot(id);
    expect(documents(draft.citations)).toEqual(documents(reply.citations));
    // The agent's draft is the same answer as reply text: no offline label, no [n] markers.
    expect(draft.body).toBe(
      reply.body
        .replace(/^(Offline answer: |离线回答：).*\n\n/, '')
        .replace(/ \[\d+\]/g, '')
        .trim(),
    );
  });

  it('answers from a knowledge base of one document (a first day with Enclave)', async () => {
    const single = await newKnowledge(app, admin, [
      {
        title: 'Vacation',
        text: 'Employees get 25 vacation days per year. Unused vacation days carry over until the end of March.',
      },
    ]);
    const singleBot = await newApiBot(app, admin, { collectionIds: [single.collectionId] });
    const saved = bot;
    bot = singleBot;
    try {
      const { reply } = await askBot('How many vacation days do I get per year?');
      expect(reply.outcome).toBe('answered');
      expect(reply.body).toContain('25 vacation days');
      expect((await askBot('Can I bring my dog to the office?')).reply.outcome).toBe('no_answer');
    } finally {
      bot = saved;
    }
  });

  it.each(OFF_TOPIC)('declines "%s", which the handbook does not answer, alike everywhere', async (question) => {
    const { id, reply } = await askBot(question);
    expect(reply.outcome).toBe('no_answer');
    expect(reply.citations).toEqual([]);
    const v1 = await askV1(question);
    expect(v1.citations).toEqual([]);
    expect(v1.choices[0]!.message.content).toBe(reply.body);
    const draft = await askCopilot(id);
    expect(draft).toEqual({ body: '', citations: [] });
  });
});

describe.each(backends)('what reaches the model on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let employee: TestUser;
  let bot: { id: string };

  beforeAll(async () => {
    model = await startFakeOpenAi(() => ({ reply: 'From the handbook [1].' }));
    app = await startTestApp(backend, { env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model' } });
    const admin = await newUser(app, { role: 'admin' });
    employee = await newUser(app);
    const { collectionId } = await newKnowledge(app, admin, HANDBOOK);
    bot = await newApiBot(app, admin, { collectionIds: [collectionId] });
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  /** The context passages' titles in the answer call for a question (none when the model was not asked). */
  async function contextFor(question: string): Promise<string[] | undefined> {
    const before = model.calls.length;
    const c = await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { botId: bot.id } });
    const id: string = c.body.conversation.id;
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: question },
    });
    await until(async () => {
      const h = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: employee.token });
      return h.body.items.some(
        (m: { senderType: string; status: string }) => m.senderType === 'bot' && m.status !== 'streaming',
      );
    }, "the bot's reply");
    const answerCall = model.calls.slice(before).find((call) => call.body.messages.at(-1)!.content.includes('[1] '));
    if (!answerCall) return undefined;
    return [...answerCall.body.messages.at(-1)!.content.matchAll(/^\[\d+\] ([^\n:(]+?)(?: \(page \d+\))?:$/gm)].map(
      (m) => m[1]!,
    );
  }

  it('sends only the passages that bear on the question', async () => {
    const titles = await contextFor('What is the hotel limit in London and the daily meal allowance?');
    expect(titles).toEqual(expect.arrayContaining(['Hotel limits', 'Meal allowance']));
    for (const noise of ['Parking', 'Intranet', 'Laptops', 'Public holidays']) expect(titles).not.toContain(noise);
  });

  it('does not ask the model at all when no passage bears on the question', async () => {
    expect(await contextFor('Can I bring my dog to the office?')).toBeUndefined();
  });
});
