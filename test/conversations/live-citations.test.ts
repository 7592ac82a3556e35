import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversationPublisher } from '../../server/src/core/conversations/conversation-publisher.ts';
import { createMessageRepository } from '../../server/src/core/conversations/message.repository.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newGroup, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { connectSocket, type Frame } from '../support/ws-client.ts';
import { apiOf, expectStatus, type Api } from './helpers.ts';

/**
 * A bot's answer cites an HR-only passage. The employee (in HR) sees the citation; the agent who
 * took the conversation over (not in HR) sees the answer without it — in a live frame and in a
 * resume's replay — as the history already shows it (docs/architecture.md "Who reads which passages").
 */
describe.each(backends)('citations in live frames on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let api: Api;
  let employee: TestUser;
  let agent: TestUser;
  let botId: string;

  beforeAll(async () => {
    model = await startFakeOpenAi(() => ({ reply: 'Full-time employees get 15 days of paid annual leave [1].' }));
    app = await startTestApp(backend, { env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model' } });
    api = apiOf(app);
    const hr = await newGroup(app, 'HR-only');
    const admin = await newUser(app, { role: 'admin' });
    [employee, agent] = await Promise.all([newUser(app, { groups: [hr] }), newUser(app, { role: 'agent' })]);
    const { collectionId } = await newKnowledge(
      app,
      admin,
      [
        {
          title: 'Leave policy 2026',
          text: 'Every full-time employee receives 15 days of paid annual leave per year.',
        },
      ],
      { groups: [hr] },
    );
    botId = (await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.05 } })).id;
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  const botAnswer = (conversationId: string, type: string) => (f: Frame) =>
    f.type === type &&
    f.message.conversationId === conversationId &&
    f.message.senderType === 'bot' &&
    f.message.status === 'complete';

  it("shows an agent in the conversation a bot's answer, live and replayed, without the passages they may not read", async () => {
    const id = (await api.post(employee.token, '/api/conversations', { botId })).body.conversation.id as string;
    const employeeSocket = await connectSocket(app.url, employee.token);
    const asked = await api.post(employee.token, `/api/conversations/${id}/messages`, {
      body: 'How many days of annual leave?',
    });
    const answered = await employeeSocket.waitFor(botAnswer(id, 'message.completed'), 15_000);
    expect(answered.message.citations).toEqual([expect.objectContaining({ title: 'Leave policy 2026' })]);
    // The employee asks for a person; the agent takes it and is now in the conversation.
    expectStatus(await api.post(employee.token, `/api/conversations/${id}/handoff`), 200);
    expectStatus(await api.post(agent.token, `/api/conversations/${id}/claim`), 200);

    // Live: the answer's event, published as the answerer publishes it, reaches both members.
    const agentSocket = await connectSocket(app.url, agent.token);
    const row = (await createMessageRepository(app.services.db).findById(answered.message.id))!;
    await createConversationPublisher(app.services.db, app.services.bus).message('message.completed', row);
    const live = await agentSocket.waitFor(botAnswer(id, 'message.completed'));
    expect(live.message.body).toBe(answered.message.body);
    expect(live.message.citations).toEqual([]);

    // Replayed: the agent comes back with a cursor from before the answer.
    await agentSocket.close();
    const again = await connectSocket(app.url, agent.token);
    again.send({ type: 'resume', after: asked.body.message.id - 1 });
    await again.waitFor((f) => f.type === 'resume.done');
    const replayed = again.frames.find(botAnswer(id, 'message.created'));
    expect(replayed?.message.id).toBe(answered.message.id);
    expect(replayed?.message.body).toBe(answered.message.body);
    expect(replayed?.message.citations).toEqual([]);
    await Promise.all([again.close(), employeeSocket.close()]);
  });
});
