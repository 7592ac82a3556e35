import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { newApiBot, newGroup, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';

describe.each(backends)('OpenAI-compatible /v1 on %s', (backend) => {
  let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let app: TestApp;
  let admin: TestUser;
  let hr: TestUser;
  let other: TestUser;
  let hrBot: { id: string; slug: string };
  let publicBot: { id: string; slug: string };
  let hrToken: string;
  let otherToken: string;

  async function personalToken(user: TestUser) {
    const created = await request(app.url, 'POST', '/api/tokens', { token: user.token, body: { name: 'integration' } });
    return created.body.token as string;
  }

  beforeAll(async () => {
    model = await startFakeOpenAi(() => ({ reply: ['Salaries are paid ', 'on the 25th [1].'] }));
    app = await startTestApp(backend, {
      env: { OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model', V1_RATE_PER_MINUTE: '600' },
    });
    const hrGroup = await newGroup(app, 'HR');
    [admin, hr, other] = await Promise.all([
      newUser(app, { role: 'admin' }),
      newUser(app, { groups: [hrGroup] }),
      newUser(app),
    ]);
    const hrKb = await newKnowledge(
      app,
      admin,
      [{ title: 'Payroll calendar', text: 'Salaries are paid on the 25th of every month by bank transfer.' }],
      { groups: [hrGroup] },
    );
    const publicKb = await newKnowledge(app, admin, [
      { title: 'Canteen', text: 'The canteen opens at 11:30 and closes at 14:00 on weekdays.' },
    ]);
    hrBot = await newApiBot(app, admin, { collectionIds: [hrKb.collectionId], handoff: { minScore: 0.05 } });
    publicBot = await newApiBot(app, admin, { collectionIds: [publicKb.collectionId], handoff: { minScore: 0.05 } });
    [hrToken, otherToken] = await Promise.all([personalToken(hr), personalToken(other)]);
  });
  afterAll(async () => {
    await app?.close();
    await model?.close();
  });

  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${app.url}/v1`, maxRetries: 0 });

  it('lists only the bots the token owner may use as models', async () => {
    const hrModels = (await client(hrToken).models.list()).data.map((m) => m.id);
    expect(hrModels).toEqual(expect.arrayContaining([hrBot.slug, publicBot.slug]));
    const otherModels = (await client(otherToken).models.list()).data.map((m) => m.id);
    expect(otherModels).toContain(publicBot.slug);
    expect(otherModels).not.toContain(hrBot.slug);
  });

  it('answers with the official client, not streaming, with citations in an extra field', async () => {
    const completion = await client(hrToken).chat.completions.create({
      model: hrBot.slug,
      messages: [{ role: 'user', content: 'When are salaries paid?' }],
    });
    expect(completion.choices[0]!.message.content).toBe('Salaries are paid on the 25th [1].');
    expect(completion.model).toBe(hrBot.slug);
    expect(completion.usage!.total_tokens).toBeGreaterThan(0);
    const citations = (completion as unknown as { citations: { title: string }[] }).citations;
    expect(citations.map((c) => c.title)).toEqual(['Payroll calendar']);
  });

  it('streams with the official client as SSE chunks, ending with citations', async () => {
    const stream = await client(hrToken).chat.completions.create({
      model: hrBot.slug,
      messages: [{ role: 'user', content: 'When are salaries paid?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let citations: unknown;
    let usage: unknown;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) pieces.push(delta);
      if ((chunk as unknown as { citations?: unknown }).citations)
        citations = (chunk as unknown as { citations: unknown }).citations;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces).toEqual(['Salaries are paid ', 'on the 25th [1].']);
    expect(citations).toHaveLength(1);
    expect(usage).toBeDefined();
  });

  it('never grounds an answer in documents the token owner may not read', async () => {
    const calls = model.calls.length;
    const denied = client(otherToken).chat.completions.create({
      model: hrBot.slug,
      messages: [{ role: 'user', content: 'When are salaries paid?' }],
    });
    await expect(denied).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    // Through a bot they may use, the HR passage is not retrievable either: nothing reaches the model.
    const viaPublic = await client(otherToken).chat.completions.create({
      model: publicBot.slug,
      messages: [{ role: 'user', content: 'When are salaries paid by bank transfer?' }],
    });
    for (const call of model.calls.slice(calls)) expect(JSON.stringify(call.body)).not.toContain('25th of every month');
    expect(JSON.stringify(viaPublic)).not.toContain('Payroll calendar');
  });

  it('speaks OpenAI-shaped errors: bad key, bad request, rate limit', async () => {
    await expect(client('enp_not-a-real-token').models.list()).rejects.toMatchObject({ status: 401 });
    const bad = await request(app.url, 'POST', '/v1/chat/completions', { token: hrToken, body: { model: hrBot.slug } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: 'invalid_request_error' });
    const missing = await request(app.url, 'GET', '/v1/nothing-here', { token: hrToken });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBeTruthy();
  });

  it('rate-limits per token with 429 and Retry-After', async () => {
    const limited = await startTestApp(backend, { env: { V1_RATE_PER_MINUTE: '4' } });
    const user = await newUser(limited);
    const created = await request(limited.url, 'POST', '/api/tokens', { token: user.token, body: { name: 'x' } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const r = await request(limited.url, 'GET', '/v1/models', { token: created.body.token });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses.slice(0, 1)).toEqual([200]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    await limited.close();
  });
});
