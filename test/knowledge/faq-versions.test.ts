import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';
import { newCollection, search, settled } from './helpers.ts';

/**
 * A FAQ question asked again with a new answer is a new version of the same entry; an answer that
 * cited the old version still opens the passage it quoted, marked as replaced.
 */
describe.each(backends)('FAQ versions and the citations of old answers on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;

  beforeAll(async () => {
    model = await startFakeOpenAi(() => ({ reply: 'Employees get 15 days of annual leave [1].' }));
    app = await startTestApp(backend, { env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model' } });
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin', name: 'Hana HR' }), newUser(app)]);
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  const addFaq = (collectionId: string, answer: string) =>
    request(app.url, 'POST', `/api/collections/${collectionId}/documents`, {
      token: admin.token,
      body: { question: 'How many days of annual leave do employees get?', answer },
    });

  it('re-importing a question makes a new version; an old answer still opens what it cited', async () => {
    const collectionId = await newCollection(app, admin.token, { name: 'HR FAQ' });
    const first = await addFaq(collectionId, 'Employees get 15 days of annual leave per year.');
    const doc = await settled(app, admin.token, first.body.document.id);
    const botId = (await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.01 } })).id;

    const conversation = (
      await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { botId } })
    ).body.conversation.id as string;
    await request(app.url, 'POST', `/api/conversations/${conversation}/messages`, {
      token: employee.token,
      body: { body: 'How many days of annual leave do I get?', clientId: 'q1' },
    });
    const history = () =>
      request(app.url, 'GET', `/api/conversations/${conversation}/messages`, { token: employee.token });
    const cited = await until(
      async () => {
        const bot = (await history()).body.items.find(
          (m: { senderType: string; status: string }) => m.senderType === 'bot' && m.status === 'complete',
        );
        return bot?.citations.length ? bot : undefined;
      },
      'the cited answer',
      30_000,
    );
    expect(cited.citations[0]).toMatchObject({ documentId: doc.id });
    expect(cited.citations[0].replaced).toBeUndefined();

    // The same question, a new answer: the same document, a second version, the old chunk replaced.
    const second = await addFaq(collectionId, 'Employees get 20 days of annual leave per year from 2027.');
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ duplicate: false, document: { id: doc.id } });
    await until(
      async () => (await settled(app, admin.token, doc.id)).version > doc.version,
      'the new version to be indexed',
    );
    const versions = (await request(app.url, 'GET', `/api/documents/${doc.id}/versions`, { token: admin.token })).body
      .items;
    expect(versions).toMatchObject([
      { number: 2, origin: 'reimport', createdBy: { name: 'Hana HR' } },
      { number: 1, origin: 'import' },
    ]);
    const docs = await request(app.url, 'GET', `/api/collections/${collectionId}/documents`, { token: admin.token });
    expect(docs.body.items).toHaveLength(1);
    const hits = await search(app, employee.token, 'annual leave days', { collectionIds: [collectionId] });
    expect(hits.map((h) => h.text).join(' ')).toContain('20 days');
    expect(hits.map((h) => h.text).join(' ')).not.toContain('15 days');

    // The old answer's citation is still there, with the text it quoted, marked as replaced.
    const bot = (await history()).body.items.find((m: { id: number }) => m.id === cited.id);
    expect(bot.citations).toEqual([
      expect.objectContaining({ documentId: doc.id, replaced: true, snippet: expect.stringContaining('15 days') }),
    ]);
  });
});
