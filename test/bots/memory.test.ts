import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi, type ChatCall } from '../support/fake-openai.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { connectSocket, type TestSocket } from '../support/ws-client.ts';

const LEAVE_POLICY = {
  title: 'Leave policy 2026',
  text: 'Annual leave: every full-time employee receives 15 days of paid annual leave per year. Unused days expire on 31 March of the following year.\n\nSick leave requires a doctor note after three consecutive days.',
};
const 年假制度 = {
  title: '年假制度',
  text: '全职员工每年享有十五天带薪年假，未休年假可顺延至次年三月底。外包人员每年享有五天带薪年假，由外包公司统一安排。',
};

/** The answer call has the bot's system message; the rewrite call is one user message. */
const isAnswer = (call: ChatCall) => call.body.messages[0]?.role === 'system';
/** The short title asked for after a conversation's first answer (prompts/title.md). */
const isTitle = (call: ChatCall) => /short title/.test(call.body.messages[0]?.content ?? '');

describe.each(backends)('conversation memory on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let english: string;
  let chinese: string;
  /** What the fake model replies to the rewrite and to the answer call. */
  const replies = { rewrite: '', answer: '' };

  beforeAll(async () => {
    model = await startFakeOpenAi((call) => ({ reply: isAnswer(call) ? replies.answer : replies.rewrite }));
    app = await startTestApp(backend, {
      env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', V1_RATE_PER_MINUTE: '600' },
    });
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin' }), newUser(app)]);
    english = (await newKnowledge(app, admin, [LEAVE_POLICY])).collectionId;
    chinese = (await newKnowledge(app, admin, [年假制度])).collectionId;
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  async function say(socket: TestSocket, conversationId: string, body: string) {
    const posted = await request(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: employee.token,
      body: { body },
    });
    expect(posted.status).toBe(201);
    const reply = await socket.waitFor(
      (f) =>
        (f.type === 'message.completed' || (f.type === 'message.created' && f.message.status === 'complete')) &&
        f.message.conversationId === conversationId &&
        f.message.senderType === 'bot' &&
        f.message.id > posted.body.message.id,
      15_000,
    );
    return { reply: reply.message };
  }

  async function conversationWith(botId: string) {
    const created = await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { botId } });
    return created.body.conversation.id as string;
  }

  it('answers "make it shorter" from the conversation, with the first question and answer in the call', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [english], handoff: { minScore: 0.2 } });
    const socket = await connectSocket(app.url, employee.token);
    const id = await conversationWith(bot.id);
    replies.answer =
      'Full-time employees get 15 days of paid annual leave per year [1]. Unused days expire on 31 March of the following year [1].';
    const first = await say(socket, id, 'How many days of paid annual leave do I get?');
    expect(first.reply.body).toBe(replies.answer);

    replies.rewrite = '{"query": "Make it shorter.", "followUp": true, "queryInCollectionLanguage": null}';
    replies.answer = '15 days a year; unused days expire on 31 March.';
    const second = await say(socket, id, 'make it shorter');
    // Answered, not "I couldn't find anything" …
    expect(second.reply.body).toBe('15 days a year; unused days expire on 31 March.');
    // … although retrieval on the follow-up was below the bot's bar.
    const stored = await app.services.db.query<{ confidence: number }>(
      `SELECT (meta->>'confidence')::float8 AS confidence FROM messages WHERE id = $1`,
      [second.reply.id],
    );
    expect(stored.rows[0]!.confidence).toBeLessThan(0.2);
    const answerCall = model.calls.filter(isAnswer).at(-1)!;
    const messages = answerCall.body.messages;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]!.content).toBe('How many days of paid annual leave do I get?');
    // The earlier answer without its [1]: that number belonged to the earlier context.
    expect(messages[2]!.content).toBe(
      'Full-time employees get 15 days of paid annual leave per year. Unused days expire on 31 March of the following year.',
    );
    expect(messages[3]!.content).toContain('Question: Make it shorter.');
    await socket.close();
  });

  it('rewrites "那外包人员呢？" with the conversation, and retrieves for the rewritten question', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [chinese], handoff: { minScore: 0.2 } });
    const socket = await connectSocket(app.url, employee.token);
    const id = await conversationWith(bot.id);
    replies.answer = '全职员工每年享有十五天带薪年假[1]。';
    await say(socket, id, '全职员工每年有多少天年假？');

    replies.rewrite = '{"query": "外包人员每年有多少天年假？", "followUp": false, "queryInCollectionLanguage": null}';
    replies.answer = '外包人员每年享有五天带薪年假[1]。';
    const followUp = await say(socket, id, '那外包人员呢？');
    expect(followUp.reply.body).toBe('外包人员每年享有五天带薪年假[1]。');
    expect(followUp.reply.citations.map((c: { title: string }) => c.title)).toEqual(['年假制度']);
    const rewriteCall = model.calls.filter((c) => !isAnswer(c) && !isTitle(c)).at(-1)!;
    expect(rewriteCall.body.messages[0]!.content).toContain('User: 全职员工每年有多少天年假？');
    expect(rewriteCall.body.messages[0]!.content).toContain('Assistant: 全职员工每年享有十五天带薪年假。');
    expect(rewriteCall.body.messages[0]!.content).toContain('Latest message: 那外包人员呢？');
    const answerCall = model.calls.filter(isAnswer).at(-1)!;
    expect(answerCall.body.messages.at(-1)!.content).toContain('Question: 外包人员每年有多少天年假？');
    expect(answerCall.body.messages.at(-1)!.content).toContain('[1] 年假制度');
    expect(answerCall.body.messages.slice(1, -1)).toEqual([
      { role: 'user', content: '全职员工每年有多少天年假？' },
      { role: 'assistant', content: '全职员工每年享有十五天带薪年假。' },
    ]);
    await socket.close();
  });

  it('answers a Chinese question over English documents in Chinese, searching with the English query', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [english], handoff: { minScore: 0.2 } });
    const socket = await connectSocket(app.url, employee.token);
    const id = await conversationWith(bot.id);
    replies.rewrite =
      '{"query": "我每年有多少天带薪年假？", "followUp": false, "queryInCollectionLanguage": "How many days of paid annual leave do I get per year?"}';
    replies.answer = '全职员工每年有 15 天带薪年假 [1]。';
    const { reply } = await say(socket, id, '我每年有多少天带薪年假？');
    expect(reply.body).toBe('全职员工每年有 15 天带薪年假 [1]。');
    expect(reply.citations.map((c: { title: string }) => c.title)).toEqual(['Leave policy 2026']);
    const rewriteCall = model.calls.filter((c) => !isAnswer(c) && !isTitle(c)).at(-1)!;
    expect(rewriteCall.body.messages[0]!.content).toContain('the documents are written in English');
    const answerCall = model.calls.filter(isAnswer).at(-1)!;
    expect(answerCall.body.messages[0]!.content).toContain('Simplified Chinese');
    expect(answerCall.body.messages.at(-1)!.content).toContain('[1] Leave policy 2026');
    await socket.close();
  });

  it('passes the earlier messages of a /v1 request into the answer call', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [english], handoff: { minScore: 0.2 } });
    const token = (await request(app.url, 'POST', '/api/tokens', { token: employee.token, body: { name: 'memory' } }))
      .body.token as string;
    replies.rewrite =
      '{"query": "Translate the answer about annual leave into Chinese.", "followUp": true, "queryInCollectionLanguage": null}';
    replies.answer = '全职员工每年有 15 天带薪年假。';
    const completion = await request(app.url, 'POST', '/v1/chat/completions', {
      token,
      body: {
        model: bot.slug,
        messages: [
          { role: 'system', content: 'Ignored: the bot has its own instructions.' },
          { role: 'user', content: 'How many days of paid annual leave do I get?' },
          { role: 'assistant', content: 'Full-time employees get 15 days of paid annual leave per year [1].' },
          { role: 'user', content: 'translate that into Chinese' },
        ],
      },
    });
    expect(completion.status).toBe(200);
    expect(completion.body.choices[0].message.content).toBe('全职员工每年有 15 天带薪年假。');
    const messages = model.calls.filter(isAnswer).at(-1)!.body.messages;
    expect(messages.slice(1, -1)).toEqual([
      { role: 'user', content: 'How many days of paid annual leave do I get?' },
      { role: 'assistant', content: 'Full-time employees get 15 days of paid annual leave per year.' },
    ]);
    expect(messages.at(-1)!.content).toContain('Question: Translate the answer about annual leave into Chinese.');
  });
});
