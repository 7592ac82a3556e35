import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';

interface GapItem {
  question: string;
  count: number;
  status: string;
  resolution: { documentId: string; documentTitle: string } | null;
}

describe.each(backends)('knowledge gaps close on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let agent: TestUser;
  let otherAgent: TestUser;
  let collectionId: string;
  let strictBot: string;

  beforeAll(async () => {
    model = await startFakeOpenAi(() => ({ reply: 'I am not sure.' }));
    app = await startTestApp(backend, { env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model' } });
    [admin, employee, agent, otherAgent] = await Promise.all([
      newUser(app, { role: 'admin' }),
      newUser(app),
      newUser(app, { role: 'agent' }),
      newUser(app, { role: 'agent' }),
    ]);
    ({ collectionId } = await newKnowledge(app, admin, [
      { title: 'Laptops', text: 'Laptops are replaced every three years by the IT service desk.' },
    ]));
    // A bot that answers nothing: every question it gets stays a gap, whatever the FAQ says.
    strictBot = (await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.99 } })).id;
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  async function ask(question: string): Promise<string> {
    const c = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { botId: strictBot },
    });
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
    }, 'the bot to answer');
    return id;
  }

  async function gaps(status = 'open'): Promise<GapItem[]> {
    const res = await request(app.url, 'GET', `/api/admin/gaps?status=${status}`, { token: admin.token });
    expect(res.status).toBe(200);
    return res.body.items;
  }
  const find = (items: GapItem[], pattern: RegExp) => items.find((g) => pattern.test(g.question));

  it('a gap answered with an FAQ entry is resolved, and reopens when asked again unanswered', async () => {
    await ask('Who pays for the canteen on Fridays?');
    expect(find(await gaps(), /canteen/)).toMatchObject({ status: 'open', count: 1 });

    // The admin words the FAQ differently from the employee; the gap it answers is named. The
    // entry goes to a collection the strict bot does not use, so asking again stays unanswered.
    const { collectionId: faqCollection } = await newKnowledge(app, admin, []);
    const faq = await request(app.url, 'POST', '/api/admin/gaps/faq', {
      token: admin.token,
      body: {
        collectionId: faqCollection,
        question: 'Friday canteen: who pays?',
        answer: 'The company pays for lunch in the canteen every Friday.',
        gapQuestion: 'Who pays for the canteen on Fridays?',
      },
    });
    expect(faq.status).toBe(202);
    expect(find(await gaps(), /canteen/)).toBeUndefined();
    expect(find(await gaps('resolved'), /canteen/)).toMatchObject({
      status: 'resolved',
      resolution: { documentId: faq.body.document.id, documentTitle: 'Friday canteen: who pays?' },
    });

    // Asked again, and still not answered: open again.
    await ask('who pays for the canteen on fridays');
    expect(find(await gaps(), /canteen/)).toMatchObject({ status: 'reopened', count: 2 });
    expect(find(await gaps('resolved'), /canteen/)).toBeUndefined();
  });

  it('an FAQ entry added anywhere with the same question resolves the gap; deleting it reopens the gap', async () => {
    await ask('Can I bring my dog to the office?');
    expect(find(await gaps(), /dog/)?.status).toBe('open');
    const added = await request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
      token: admin.token,
      body: { question: 'Can I bring my dog to the office?', answer: 'Dogs are welcome on the ground floor.' },
    });
    expect(added.status).toBe(202);
    expect(find(await gaps(), /dog/)).toBeUndefined();
    expect(find(await gaps('resolved'), /dog/)?.resolution?.documentId).toBe(added.body.document.id);

    const removed = await request(app.url, 'DELETE', `/api/documents/${added.body.document.id}`, {
      token: admin.token,
    });
    expect(removed.status).toBe(204);
    expect(find(await gaps(), /dog/)?.status).toBe('open');
  });

  it("an agent's reply becomes an FAQ draft that is indexed only once an admin approves it", async () => {
    const c = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { kind: 'support' },
    });
    const id: string = c.body.conversation.id;
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: 'How do I book the rooftop terrace for a team event?' },
    });
    expect((await request(app.url, 'POST', `/api/conversations/${id}/claim`, { token: agent.token })).status).toBe(200);
    const reply = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: agent.token,
      body: { body: 'Write to facilities with the date; the zephyrine terrace holds forty people.' },
    });
    const replyId: number = reply.body.message.id;

    // Only staff propose, and only an agent's reply.
    const byEmployee = await request(app.url, 'POST', `/api/messages/${replyId}/faq-draft`, {
      token: employee.token,
      body: {},
    });
    expect(byEmployee.status).toBe(403);
    const history = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: agent.token });
    const question = history.body.items.find((m: { senderType: string }) => m.senderType === 'user');
    const ofQuestion = await request(app.url, 'POST', `/api/messages/${question.id}/faq-draft`, {
      token: agent.token,
      body: {},
    });
    expect(ofQuestion.status).toBe(400);
    const note = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: agent.token,
      body: { body: 'Staff only: the terrace key is in drawer 3.', internal: true },
    });
    const ofNote = await request(app.url, 'POST', `/api/messages/${note.body.message.id}/faq-draft`, {
      token: agent.token,
      body: { question: 'Where is the terrace key?' },
    });
    expect(ofNote.status).toBe(400);

    // The question defaults to the employee's last one before the reply; proposing twice is one draft.
    const proposed = await request(app.url, 'POST', `/api/messages/${replyId}/faq-draft`, {
      token: agent.token,
      body: {},
    });
    expect(proposed.status).toBe(201);
    expect(proposed.body.draft).toMatchObject({
      question: 'How do I book the rooftop terrace for a team event?',
      answer: 'Write to facilities with the date; the zephyrine terrace holds forty people.',
      status: 'pending',
      proposedBy: { id: agent.id },
    });
    const again = await request(app.url, 'POST', `/api/messages/${replyId}/faq-draft`, {
      token: agent.token,
      body: {},
    });
    expect(again.status).toBe(200);
    expect(again.body.draft.id).toBe(proposed.body.draft.id);

    const pending = await request(app.url, 'GET', '/api/admin/faq-drafts', { token: admin.token });
    expect(pending.body.items.map((d: { id: string }) => d.id)).toContain(proposed.body.draft.id);
    expect((await request(app.url, 'GET', '/api/admin/faq-drafts', { token: agent.token })).status).toBe(403);
    const terrace = async () => {
      const res = await request(app.url, 'POST', '/api/search', {
        token: employee.token,
        body: { query: 'zephyrine terrace' },
      });
      return (res.body.hits as { text: string }[]).filter((h) => h.text.includes('zephyrine'));
    };
    expect(await terrace()).toEqual([]);

    const approved = await request(app.url, 'POST', `/api/admin/faq-drafts/${proposed.body.draft.id}/approve`, {
      token: admin.token,
      body: {
        collectionId,
        question: 'How do I book the rooftop terrace?',
        answer: 'Write to facilities with the date. The zephyrine terrace holds 40 people.',
      },
    });
    expect(approved.status).toBe(202);
    expect(approved.body.draft).toMatchObject({ status: 'approved', documentId: approved.body.document.id });
    const hits = await until(async () => {
      const found = await terrace();
      return found.length ? found : undefined;
    }, 'the approved FAQ entry to be searchable');
    expect(hits[0]!.text).toContain('40 people');
    const twice = await request(app.url, 'POST', `/api/admin/faq-drafts/${proposed.body.draft.id}/approve`, {
      token: admin.token,
      body: { collectionId, question: 'x', answer: 'y' },
    });
    expect(twice.status).toBe(409);
    expect((await request(app.url, 'GET', '/api/admin/faq-drafts', { token: admin.token })).body.items).toEqual([]);

    // Another agent's reply, rejected: never indexed, kept for the record.
    await request(app.url, 'POST', `/api/conversations/${id}/transfer`, {
      token: agent.token,
      body: { agentId: otherAgent.id },
    });
    const other = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: otherAgent.token,
      body: { body: 'Or just ask me, the quintessa way.' },
    });
    const draft = await request(app.url, 'POST', `/api/messages/${other.body.message.id}/faq-draft`, {
      token: otherAgent.token,
      body: { question: 'Who books the terrace?' },
    });
    expect(draft.status).toBe(201);
    const rejected = await request(app.url, 'POST', `/api/admin/faq-drafts/${draft.body.draft.id}/reject`, {
      token: admin.token,
    });
    expect(rejected.body.draft.status).toBe('rejected');
    const kept = await request(app.url, 'GET', '/api/admin/faq-drafts?status=rejected', { token: admin.token });
    expect(kept.body.items.map((d: { question: string }) => d.question)).toEqual(['Who books the terrace?']);

    const audit = await request(app.url, 'GET', '/api/admin/audit?limit=200', { token: admin.token });
    const actions = audit.body.items.map((a: { action: string }) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['faq_draft.proposed', 'faq_draft.approved', 'faq_draft.rejected']));
  });
});
