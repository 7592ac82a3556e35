import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newGroup, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { connectSocket } from '../support/ws-client.ts';

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(backends)('feedback, gaps, handoff decisions and the copilot on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let agent: TestUser;
  let hrEmployee: TestUser;
  let hrAgent: TestUser;
  let collectionId: string;
  let hrCollectionId: string;

  beforeAll(async () => {
    model = await startFakeOpenAi(() => ({ reply: 'You get 15 days [1].' }));
    app = await startTestApp(backend, { env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model' } });
    const hr = await newGroup(app, 'HR-only');
    [admin, employee, agent, hrEmployee, hrAgent] = await Promise.all([
      newUser(app, { role: 'admin' }),
      newUser(app),
      newUser(app, { role: 'agent' }),
      newUser(app, { groups: [hr] }),
      newUser(app, { role: 'agent', groups: [hr] }),
    ]);
    // A few other pages, as in any handbook: with two documents both about leave, no word would tell them apart.
    ({ collectionId } = await newKnowledge(app, admin, [
      { title: 'Leave policy', text: 'Every full-time employee receives 15 days of paid annual leave per year.' },
      { title: 'Parking', text: 'Employees park for free in garage B with their badge.' },
      { title: 'Laptops', text: 'Laptops are replaced every three years by the IT service desk.' },
      { title: 'Expenses', text: 'Submit travel expenses within 30 days with the original receipts.' },
    ]));
    ({ collectionId: hrCollectionId } = await newKnowledge(
      app,
      admin,
      [
        {
          title: 'Executive bonus plan',
          text: 'The annual leave bonus for executives is 30 extra days, confidential.',
        },
      ],
      { groups: [hr] },
    ));
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  async function conversationWith(user: TestUser, botId: string, question: string) {
    const c = await request(app.url, 'POST', '/api/conversations', { token: user.token, body: { botId } });
    const id: string = c.body.conversation.id;
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: user.token,
      body: { body: question },
    });
    const answer = await until(async () => {
      const h = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: user.token });
      return h.body.items.find(
        (m: { senderType: string; status: string }) => m.senderType === 'bot' && m.status !== 'streaming',
      );
    });
    return { id, answer };
  }

  it('a 👎 with a comment hands off (per bot setting) and shows up in knowledge gaps; a FAQ made from it is then retrievable', async () => {
    const bot = await newApiBot(app, admin, {
      collectionIds: [collectionId],
      handoff: { minScore: 0.05, onNegativeFeedback: true },
    });
    const { id, answer } = await conversationWith(employee, bot.id, 'How many days of paid annual leave do I get?');
    const rated = await request(app.url, 'POST', `/api/messages/${answer.id}/feedback`, {
      token: employee.token,
      body: { rating: -1, comment: 'Part-timers?' },
    });
    expect(rated.status).toBe(200);
    const c = await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token });
    expect(c.body.conversation).toMatchObject({ status: 'queued', handoffReason: 'negative_feedback' });

    // A question with nothing in the knowledge base.
    const strict = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.99 } });
    await conversationWith(employee, strict.id, 'Where is the parking garage entrance?');
    await conversationWith(employee, strict.id, 'where is the parking garage entrance');

    const gaps = await request(app.url, 'GET', '/api/admin/gaps', { token: admin.token });
    const parking = gaps.body.items.find((g: { question: string }) => /parking/i.test(g.question));
    expect(parking).toMatchObject({ count: 2, reasons: { no_answer: 2 } });
    const rated1 = gaps.body.items.find((g: { question: string }) => /annual leave/.test(g.question));
    expect(rated1.reasons.negative_feedback).toBe(1);
    expect(rated1.examples[0].comment).toBe('Part-timers?');

    const faq = await request(app.url, 'POST', '/api/admin/gaps/faq', {
      token: admin.token,
      body: {
        collectionId,
        question: 'Where is the parking garage entrance?',
        answer: 'The parking garage entrance is on Harbour Street, behind building B.',
      },
    });
    expect(faq.status).toBe(202);
    await until(async () => {
      const d = await request(app.url, 'GET', `/api/documents/${faq.body.document.id}`, { token: admin.token });
      return d.body.document.status === 'ready' ? true : undefined;
    });
    const search = await request(app.url, 'POST', '/api/search', {
      token: employee.token,
      body: { query: 'parking garage entrance' },
    });
    expect(search.body.hits[0].text).toContain('Harbour Street');
  });

  it('hands off when the same question is asked again after an answer', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const { id } = await conversationWith(employee, bot.id, 'How many days of paid annual leave do I get?');
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: 'How many days of paid annual leave do I get??' },
    });
    const c = await until(async () => {
      const r = await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token });
      return r.body.conversation.status === 'queued' ? r.body.conversation : undefined;
    });
    expect(c.handoffReason).toBe('repeated_question');
  });

  it('treats a model that declines as no answer, offering a person, and never shows the marker', async () => {
    model.set(() => ({ reply: ['[[NO_', 'ANSWER]]'] }));
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } });
    const socket = await connectSocket(app.url, employee.token);
    const { id, answer } = await conversationWith(employee, bot.id, 'How many days of paid annual leave do I get?');
    expect(answer).toMatchObject({ outcome: 'declined', handoffOffered: true });
    expect(answer.body).toContain('talk to a person');
    expect(socket.frames.some((f) => f.type === 'message.delta' && f.conversationId === id)).toBe(false);
    await socket.close();
    model.set(() => ({ reply: 'You get 15 days [1].' }));
  });

  it("drafts the agent's reply from what both the employee and the agent may read, never more", async () => {
    model.set((call) => ({
      reply: call.body.messages[0]!.content.startsWith('Summarise')
        ? '- wants leave info'
        : 'Hi! You have 15 days [1].',
    }));
    const bot = await newApiBot(app, admin, {
      collectionIds: [collectionId, hrCollectionId],
      handoff: { minScore: 0.05 },
    });
    const { id } = await conversationWith(employee, bot.id, 'How many days of annual leave do executives get?');
    await request(app.url, 'POST', `/api/conversations/${id}/handoff`, { token: employee.token, body: {} });
    await request(app.url, 'POST', `/api/conversations/${id}/claim`, { token: agent.token });
    const calls = model.calls.length;
    const suggestion = await request(app.url, 'GET', `/api/conversations/${id}/suggestion`, { token: agent.token });
    expect(suggestion.status).toBe(200);
    expect(suggestion.body.suggestion.summary).toBe('- wants leave info');
    // Reply text to send as is: the citation the model marked is listed beside it, not left as "[1]".
    expect(suggestion.body.suggestion.reply.body).toBe('Hi! You have 15 days.');
    const titles = suggestion.body.suggestion.reply.citations.map((c: { title: string }) => c.title);
    expect(titles).not.toContain('Executive bonus plan');
    for (const call of model.calls.slice(calls)) expect(JSON.stringify(call.body)).not.toContain('30 extra days');

    // The same question from an HR member, handed to an agent outside HR: the HR passage is the
    // employee's to read, not the agent's — not in the draft, its citations, the bot's citations
    // shown beside it or under its answer, nor the model request (the answer's words stay). An
    // agent in HR sees it.
    const askHr = async (by: TestUser) => {
      const c = await conversationWith(hrEmployee, bot.id, 'How many days of annual leave do executives get?');
      expect(c.answer.citations.map((x: { title: string }) => x.title)).toContain('Executive bonus plan');
      await request(app.url, 'POST', `/api/conversations/${c.id}/handoff`, { token: hrEmployee.token, body: {} });
      await request(app.url, 'POST', `/api/conversations/${c.id}/claim`, { token: by.token });
      const before = model.calls.length;
      const res = await request(app.url, 'GET', `/api/conversations/${c.id}/suggestion`, { token: by.token });
      expect(res.status).toBe(200);
      const titles = (list: { title: string }[]) => list.map((x) => x.title);
      const history = await request(app.url, 'GET', `/api/conversations/${c.id}/messages`, { token: by.token });
      const answer = history.body.items.find((m: { id: number }) => m.id === c.answer.id);
      expect(answer.body).toBe(c.answer.body);
      return {
        opened: titles(answer.citations),
        cited: titles(res.body.suggestion.reply.citations),
        botCited: titles(res.body.suggestion.botCitations),
        draft: res.body.suggestion.reply.body as string,
        modelSaw: model.calls.slice(before).map((call) => JSON.stringify(call.body)),
      };
    };
    const outsider = await askHr(agent);
    expect(outsider.cited).not.toContain('Executive bonus plan');
    expect(outsider.botCited).not.toContain('Executive bonus plan');
    expect(outsider.opened).not.toContain('Executive bonus plan');
    expect(outsider.draft).not.toContain('30 extra days');
    expect(outsider.modelSaw.length).toBeGreaterThan(0);
    for (const body of outsider.modelSaw) expect(body).not.toContain('30 extra days');
    const insider = await askHr(hrAgent);
    expect(insider.cited).toContain('Executive bonus plan');
    expect(insider.botCited).toContain('Executive bonus plan');
    expect(insider.opened).toContain('Executive bonus plan');
    expect(insider.modelSaw.some((body) => body.includes('30 extra days'))).toBe(true);

    // Employees cannot ask for suggestions.
    expect(
      (await request(app.url, 'GET', `/api/conversations/${id}/suggestion`, { token: employee.token })).status,
    ).toBe(403);
  });

  it('sums it up for admins: conversations per day, deflection and handoff rates, reasons, feedback, tokens', async () => {
    const res = await request(app.url, 'GET', '/api/admin/analytics?days=7', { token: admin.token });
    expect(res.status).toBe(200);
    const a = res.body.analytics;
    expect(a.botConversations).toBeGreaterThan(0);
    expect(a.handoffRate).toBeGreaterThan(0);
    expect(a.deflectionRate + a.handoffRate).toBeCloseTo(1);
    expect(a.handoffReasons.map((r: { reason: string }) => r.reason)).toEqual(
      expect.arrayContaining(['negative_feedback', 'repeated_question']),
    );
    expect(a.feedback.negative).toBeGreaterThanOrEqual(1);
    expect(a.tokensPerBot.some((b: { promptTokens: number }) => b.promptTokens > 0)).toBe(true);
    expect(a.conversationsPerDay.reduce((n: number, d: { count: number }) => n + d.count, 0)).toBe(a.botConversations);
    expect((await request(app.url, 'GET', '/api/admin/analytics', { token: employee.token })).status).toBe(403);
  });
});
