import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationRepository } from '../../server/src/core/conversations/conversation.repository.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi, type Behaviour, type ChatCall } from '../support/fake-openai.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';
import { connectSocket, type TestSocket } from '../support/ws-client.ts';

/**
 * Frustration and complaints hand a bot conversation to people: offline by the lexicon as the
 * message is posted, with a model by the handoff-classifier prompt in the bot's turn (the lexicon
 * again when the model's reply is no use). The deployment has no model; one bot names its own.
 */

const LEAVE_POLICY = {
  title: 'Leave policy 2026',
  text: 'Annual leave: every full-time employee receives 15 days of paid annual leave per year. Unused days expire on 31 March of the following year.',
};

/** The bot's reply: a streamed answer completing, or a reply said at once (no answer, handed off). */
const botReplied = (socket: TestSocket, conversationId: string) =>
  socket.waitFor(
    (f) =>
      (f.type === 'message.completed' || (f.type === 'message.created' && f.message.status === 'complete')) &&
      f.message.conversationId === conversationId &&
      f.message.senderType === 'bot',
  );

const isClassifier = (call: ChatCall) => call.body.messages.some((m) => m.content.includes('"wants_person"'));

describe.each(backends)('handoff on frustration and complaints on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let offlineBot: string;
  let modelBot: string;

  beforeAll(async () => {
    model = await startFakeOpenAi();
    app = await startTestApp(backend);
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin' }), newUser(app)]);
    const { collectionId } = await newKnowledge(app, admin, [LEAVE_POLICY]);
    const handoff = { minScore: 0.05 };
    offlineBot = (await newApiBot(app, admin, { collectionIds: [collectionId], handoff })).id;
    const own = { baseUrl: model.baseUrl, model: 'fake-model' };
    modelBot = (await newApiBot(app, admin, { collectionIds: [collectionId], handoff, model: own })).id;
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  async function post(botId: string, body: string) {
    const created = await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { botId } });
    const id: string = created.body.conversation.id;
    const posted = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body },
    });
    expect(posted.status).toBe(201);
    return id;
  }
  const conversation = async (id: string) =>
    (await request(app.url, 'GET', `/api/conversations/${id}`, { token: employee.token })).body.conversation as {
      status: string;
      handoffReason: string | null;
    };
  const botMessages = async (id: string) =>
    (
      (await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: employee.token })).body.items as {
        senderType: string;
        body: string;
      }[]
    ).filter((m) => m.senderType === 'bot');
  /** Who handed it off: the employee's post (offline) or the bot's turn (no one). */
  const handedOffBy = async (id: string) =>
    (await createConversationRepository(app.services.db).events(id))
      .filter((e) => e.type === 'handoff')
      .map((e) => e.actor_id);
  const queued = (id: string) =>
    until(async () => {
      const c = await conversation(id);
      return c.status === 'queued' && c;
    }, `conversation ${id} queued`);

  it('offline, hands an angry message or a complaint to people as it is posted, in English and Chinese, and answers the rest', async () => {
    for (const words of ['I am furious, this bot is useless', '你们这个机器人太垃圾了，气死我了']) {
      const id = await post(offlineBot, words);
      // Queued by the post itself, before the bot's turn: no answer follows.
      expect(await conversation(id), words).toMatchObject({ status: 'queued', handoffReason: 'frustration' });
      expect(await handedOffBy(id)).toEqual([employee.id]);
    }
    const complaint = await post(offlineBot, '我要投诉你们的客服');
    expect(await conversation(complaint)).toMatchObject({ status: 'queued', handoffReason: 'complaint' });

    const socket = await connectSocket(app.url, employee.token);
    for (const words of [
      'How many days of paid annual leave do I get?',
      'How do I file a complaint about a supplier?',
    ]) {
      const id = await post(offlineBot, words);
      await botReplied(socket, id);
      expect(await conversation(id), words).toMatchObject({ status: 'bot', handoffReason: null });
    }
    await socket.close();

    // The admin's analytics count the new reasons.
    const analytics = await request(app.url, 'GET', '/api/admin/analytics', { token: admin.token });
    const reasons = analytics.body.analytics.handoffReasons as { reason: string; count: number }[];
    expect(reasons.find((r) => r.reason === 'frustration')?.count).toBeGreaterThanOrEqual(2);
    expect(reasons.find((r) => r.reason === 'complaint')?.count).toBeGreaterThanOrEqual(1);
  });

  it('with a model, hands off when the classifier reads frustration the lexicon would miss, and says it passed the conversation on', async () => {
    const reply = (call: ChatCall): Behaviour =>
      isClassifier(call)
        ? { reply: '{"wants_person": 0.2, "frustrated": 0.93, "complaint": 0.1}' }
        : { reply: 'You get 15 days [1].' };
    model.set(reply);
    const before = model.calls.length;
    const words = 'Third time I ask the same thing and still nothing that helps me.';
    const id = await post(modelBot, words);
    expect((await queued(id)).handoffReason).toBe('frustration');
    expect(await handedOffBy(id)).toEqual([null]);
    const [said] = await botMessages(id);
    expect(said?.body).toContain('passed this conversation to our support team');

    const calls = model.calls.slice(before);
    const classifier = calls.filter(isClassifier);
    expect(classifier).toHaveLength(1);
    expect(classifier[0]!.body).toMatchObject({ temperature: 0 });
    expect(classifier[0]!.body.messages[0]!.content).toContain(words);
    // No answer was streamed to someone who is being handed to people (an earlier conversation's
    // title may still be asked for).
    const isTitle = (c: ChatCall) => c.body.messages.some((m) => m.content.includes('short title'));
    expect(calls.filter((c) => !isClassifier(c) && !isTitle(c))).toEqual([]);
    const usage = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM llm_usage WHERE kind = 'intent' AND bot_id = $1 AND conversation_id = $2`,
      [modelBot, id],
    );
    expect(usage.rows[0]!.n).toBe(1);
  });

  it('with a model, answers when the classifier reads an ordinary question, and reads each message once', async () => {
    model.set((call) =>
      isClassifier(call)
        ? { reply: '```json\n{"wants_person": 0, "frustrated": 0.05, "complaint": 0}\n```' }
        : { reply: 'You get 15 days of paid annual leave [1].' },
    );
    const before = model.calls.length;
    const socket = await connectSocket(app.url, employee.token);
    const id = await post(modelBot, 'How many days of paid annual leave do I get?');
    const completed = await botReplied(socket, id);
    expect(completed.message.body).toBe('You get 15 days of paid annual leave [1].');
    expect(await conversation(id)).toMatchObject({ status: 'bot' });
    expect(model.calls.slice(before).filter(isClassifier)).toHaveLength(1);
    await socket.close();
  });

  it("with a model, falls back to the lexicon when the classifier's reply is not its JSON or the model fails", async () => {
    model.set((call) =>
      isClassifier(call) ? { reply: 'The user sounds quite upset.' } : { reply: 'You get 15 days [1].' },
    );
    const angry = await post(modelBot, '你们这个机器人太垃圾了，气死我了');
    expect((await queued(angry)).handoffReason).toBe('frustration');
    // In the bot's turn (posting only looks for words asking for a person when the bot has a model).
    expect(await handedOffBy(angry)).toEqual([null]);
    expect((await botMessages(angry))[0]?.body).toContain('已为您转接人工客服');

    model.set((call) => (isClassifier(call) ? { status: 500 } : { reply: 'You get 15 days [1].' }));
    const complaint = await post(modelBot, 'I want to complain');
    expect((await queued(complaint)).handoffReason).toBe('complaint');

    const socket = await connectSocket(app.url, employee.token);
    model.set((call) => (isClassifier(call) ? { reply: 'not json' } : { reply: 'You get 15 days [1].' }));
    const calm = await post(modelBot, 'How many days of paid annual leave do I get?');
    await botReplied(socket, calm);
    expect(await conversation(calm)).toMatchObject({ status: 'bot' });
    await socket.close();
  });
});
