import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.ts';
import { modelForBot } from '../../server/src/core/bots/model-for-bot.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi, type ChatCall } from '../support/fake-openai.ts';
import { startFakeRerank } from '../support/fake-rerank.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { connectSocket } from '../support/ws-client.ts';

/* Personal data a user types never reaches a remote chat, embedding or rerank endpoint; the answer shows it back. */

const ID = '11010519491231002X';
const MOBILE = '138 1234 5678';
const CARD = '6222021234567894';
const EMAIL = 'zhang.san@example.com';
const PERSONAL = [ID, MOBILE, '13812345678', CARD, EMAIL];
const QUESTION = `I lost my badge. My ID card is ${ID}, mobile ${MOBILE}, bank card ${CARD}, e-mail ${EMAIL}. How do I replace the badge?`;
const CLASSIFIER_REPLY = '{"wants_person": 0, "frustrated": 0, "complaint": 0}';

/** Echoes the placeholders of the request back, in 5-character pieces: most of them are split across deltas. */
function echoPlaceholders(call: ChatCall) {
  const prompt = call.body.messages.map((m) => m.content).join('\n');
  if (prompt.includes('"wants_person"')) return { reply: CLASSIFIER_REPLY };
  // The user's words (the passages before them carry placeholders of their own).
  const asked = prompt.slice(Math.max(0, prompt.lastIndexOf('I lost my badge')));
  const placeholders = [...new Set(asked.match(/\[[A-Z_]+_\d+\]/g) ?? [])];
  const text = `Noted: ${placeholders.join(', ')}. Ask the front desk for a new badge [1].`;
  return { reply: text.match(/[\s\S]{1,5}/g)! };
}

const leaks = (texts: string[]) => texts.filter((t) => PERSONAL.some((value) => t.includes(value)));
const sentToChat = (calls: ChatCall[]) => calls.flatMap((c) => c.body.messages.map((m) => m.content));
const RESTORED = `Noted: ${ID}, ${MOBILE}, ${CARD}, ${EMAIL}. Ask the front desk for a new badge [1].`;

describe.each(backends)('personal data redaction on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let rerank: Awaited<ReturnType<typeof startFakeRerank>>;
  let app: TestApp;
  let admin: TestUser;
  let employee: TestUser;
  let collectionId: string;

  beforeAll(async () => {
    model = await startFakeOpenAi(echoPlaceholders);
    rerank = await startFakeRerank('jina');
    app = await startTestApp(backend, {
      env: {
        OPENAI_BASE_URL: model.baseUrl,
        CHAT_MODEL: 'fake-model',
        EMBEDDING_MODEL: 'fake-embed',
        EMBEDDING_DIMENSIONS: '16',
        RERANK_BASE_URL: rerank.baseUrl,
        RERANK_MODEL: 'fake-rerank',
        // The fakes are on loopback, which `auto` treats as local: ask for redaction outright.
        REDACT_PII: 'on',
      },
    });
    [admin, employee] = await Promise.all([newUser(app, { role: 'admin' }), newUser(app)]);
    ({ collectionId } = await newKnowledge(app, admin, [
      {
        title: 'Badges',
        text: `A lost badge is replaced at the front desk of the lobby. Questions: security-desk@example.com or ${'010-12345678'}.`,
      },
    ]));
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
    await rerank?.close();
  });

  it('sends placeholders to the chat, embedding and rerank endpoints and shows the asker the values, streamed', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.01 } });
    const [chatBefore, embedBefore, rerankBefore] = [
      model.calls.length,
      model.embeddingInputs.length,
      rerank.calls.length,
    ];
    const socket = await connectSocket(app.url, employee.token);
    const conversation = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { botId: bot.id },
    });
    const id: string = conversation.body.conversation.id;
    await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body: QUESTION },
    });
    const completed = await socket.waitFor(
      (f) => f.type === 'message.completed' && f.message.conversationId === id && f.message.senderType === 'bot',
      15_000,
    );
    expect(completed.message.body).toBe(RESTORED);
    const deltas: string[] = socket.frames
      .filter((f) => f.type === 'message.delta' && f.conversationId === id)
      .map((f) => f.delta);
    expect(deltas.join('')).toBe(RESTORED);
    expect(deltas.filter((d) => /\[[A-Z]/.test(d))).toEqual([]);
    await socket.close();

    const chat = model.calls.slice(chatBefore);
    expect(chat.length).toBeGreaterThanOrEqual(2); // the handoff classifier and the answer
    expect(leaks(sentToChat(chat))).toEqual([]);
    expect(sentToChat(chat).join('\n')).toContain('[ID_CARD_1]');
    const embedded = model.embeddingInputs.slice(embedBefore);
    expect(embedded.length).toBeGreaterThan(0);
    expect(leaks(embedded)).toEqual([]);
    const reranked = rerank.calls
      .slice(rerankBefore)
      .flatMap((c) => [c.body.query as string, ...(c.body.documents as string[])]);
    expect(reranked.length).toBeGreaterThan(0);
    expect(leaks(reranked)).toEqual([]);
    // The document's own contact details were embedded and reranked as placeholders too.
    expect([...model.embeddingInputs, ...reranked].some((t) => t.includes('security-desk@example.com'))).toBe(false);

    // Audited and counted by kind, never by value.
    const audit = await app.services.db.query<{ details: Record<string, unknown> }>(
      `SELECT details FROM audit_log WHERE action = 'model.pii-redacted' AND target_id = $1`,
      [bot.id],
    );
    expect(audit.rows.length).toBeGreaterThanOrEqual(2);
    expect(audit.rows[0]!.details).toMatchObject({
      userId: employee.id,
      conversationId: id,
      kinds: { ID_CARD: 1, PHONE: 1, BANK_CARD: 1, EMAIL: 1 },
    });
    expect(leaks(audit.rows.map((r) => JSON.stringify(r.details)))).toEqual([]);
    const metrics = await app.services.metrics.registry.getSingleMetricAsString('enclave_pii_redactions_total');
    expect(metrics).toMatch(/enclave_pii_redactions_total\{kind="ID_CARD",endpoint="chat"\} [1-9]/);
    expect(metrics).toMatch(/enclave_pii_redactions_total\{kind="EMAIL",endpoint="embedding"\} [1-9]/);
  });

  it('redacts /v1 requests and restores the answer, whole and streamed', async () => {
    const bot = await newApiBot(app, admin, { collectionIds: [collectionId], handoff: { minScore: 0.01 } });
    const created = await request(app.url, 'POST', '/api/tokens', { token: employee.token, body: { name: 'pii' } });
    const client = new OpenAI({ apiKey: created.body.token as string, baseURL: `${app.url}/v1`, maxRetries: 0 });
    const before = model.calls.length;
    const completion = await client.chat.completions.create({
      model: bot.slug,
      messages: [{ role: 'user', content: QUESTION }],
    });
    expect(completion.choices[0]!.message.content).toBe(RESTORED);
    const stream = await client.chat.completions.create({
      model: bot.slug,
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
    expect(streamed).toBe(RESTORED);
    expect(model.calls.length).toBeGreaterThan(before);
    expect(leaks(sentToChat(model.calls.slice(before)))).toEqual([]);
  });

  it.each(['off', 'auto'])('passes personal data through for a bot set to %s (loopback is local)', async (mode) => {
    const bot = await newApiBot(app, admin, {
      collectionIds: [collectionId],
      handoff: { minScore: 0.01 },
      model: { redactPii: mode },
    });
    const created = await request(app.url, 'POST', '/api/tokens', { token: employee.token, body: { name: mode } });
    const client = new OpenAI({ apiKey: created.body.token as string, baseURL: `${app.url}/v1`, maxRetries: 0 });
    const before = model.calls.length;
    await client.chat.completions.create({ model: bot.slug, messages: [{ role: 'user', content: QUESTION }] });
    expect(sentToChat(model.calls.slice(before)).join('\n')).toContain(`mobile ${MOBILE}, bank card ${CARD}`);
  });
});

describe('REDACT_PII for the deployment', () => {
  it('redacts with on, passes through with off and with auto on loopback', async () => {
    const model = await startFakeOpenAi(echoPlaceholders);
    const timeouts = { firstTokenTimeoutMs: 5000, idleTimeoutMs: 5000, attempts: 1, backoffMs: 0 };
    try {
      const sent: Record<string, string> = {};
      for (const mode of ['on', 'off', 'auto']) {
        const config = loadConfig({ OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', REDACT_PII: mode });
        const chat = modelForBot(config, {}, timeouts)!;
        const result = await chat.stream({ messages: [{ role: 'user', content: QUESTION }] }, () => {});
        sent[mode] = model.calls.at(-1)!.body.messages[0]!.content;
        if (mode === 'on') expect(result.text).toBe(RESTORED);
      }
      expect(leaks([sent.on!])).toEqual([]);
      expect(sent.off).toBe(QUESTION);
      expect(sent.auto).toBe(QUESTION);
    } finally {
      await model.close();
    }
  });

  it('adds the kinds REDACT_PII_PATTERNS names and refuses a pattern that is not a regular expression', async () => {
    const model = await startFakeOpenAi(echoPlaceholders);
    const timeouts = { firstTokenTimeoutMs: 5000, idleTimeoutMs: 5000, attempts: 1, backoffMs: 0 };
    try {
      const env = { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', REDACT_PII: 'on' };
      const config = loadConfig({
        ...env,
        REDACT_PII_PATTERNS: JSON.stringify({ EMPLOYEE_ID: String.raw`\bE\d{6}\b` }),
      });
      const result = await modelForBot(config, {}, timeouts)!.stream(
        { messages: [{ role: 'user', content: 'I am E123456.' }] },
        () => {},
      );
      expect(model.calls.at(-1)!.body.messages[0]!.content).toBe('I am [EMPLOYEE_ID_1].');
      expect(result.text).toContain('Noted: E123456.');
      expect(() => loadConfig({ ...env, REDACT_PII_PATTERNS: '{"EMPLOYEE_ID": "E(\\\\d"}' })).toThrow(
        /REDACT_PII_PATTERNS/,
      );
      expect(() => loadConfig({ ...env, REDACT_PII_PATTERNS: '{"employee": "E\\\\d+"}' })).toThrow(
        /REDACT_PII_PATTERNS/,
      );
    } finally {
      await model.close();
    }
  });
});
