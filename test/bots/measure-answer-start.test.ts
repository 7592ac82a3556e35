import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { newApiBot, newUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';

/**
 * A figure the outbox must not worsen: how soon a question's answer starts — POST sent → the bot's
 * first message event on the bus (its reply from the offline bot: retrieval, then the message) —
 * p50/p90 over 30 questions, each in its own conversation. The answer job goes through the outbox
 * (written with the message, dispatched by the relay once it commits). Printed; asserted only for
 * sanity.
 */

const QUESTIONS = 30;

const setups = [
  ...backends.map((backend) => ({ label: `${backend}, in-process jobs`, backend, redis: false })),
  ...(redisUrl && backends.includes('postgres')
    ? [{ label: 'postgres, BullMQ', backend: 'postgres' as const, redis: true }]
    : []),
];

describe.each(setups)('time to the start of an answer ($label)', ({ label, backend, redis }) => {
  const prefix = uniquePrefix('start');
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.close();
    if (redis) await deleteKeys(redisUrl!, prefix);
  });

  it(`POST → the bot's first message event, p50/p90 over ${QUESTIONS} questions`, async () => {
    app = await startTestApp(backend, redis ? { redisUrl, env: { REDIS_PREFIX: prefix } } : {});
    const admin = await newUser(app, { role: 'admin' });
    const collection = await request(app.url, 'POST', '/api/collections', { token: admin.token, body: { name: 'HR' } });
    const bot = await newApiBot(app, admin, { collectionIds: [collection.body.collection.id] });
    const conversations: string[] = [];
    for (let i = 0; i < QUESTIONS; i += 1) {
      const started = await request(app.url, 'POST', '/api/conversations', {
        token: admin.token,
        body: { botId: bot.id },
      });
      conversations.push(started.body.conversation.id);
    }
    const firstBotMessage = new Map<string, () => void>();
    const unsubscribe = app.services.bus.subscribe((event) => {
      if (event.type === 'message.created' && event.message.senderType === 'bot')
        firstBotMessage.get(event.conversationId)?.();
    });
    const took: number[] = [];
    for (const id of conversations) {
      const replied = new Promise<void>((resolve) => firstBotMessage.set(id, resolve));
      const sent = performance.now();
      const res = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
        token: admin.token,
        body: { body: 'How many vacation days do I get?' },
      });
      expect(res.status).toBe(201);
      await replied;
      took.push(performance.now() - sent);
    }
    unsubscribe();
    took.sort((a, b) => a - b);
    const at = (p: number) => took[Math.min(took.length - 1, Math.ceil((p / 100) * took.length) - 1)]!;
    console.info(`answer start (${label}): p50 ${at(50).toFixed(1)} ms, p90 ${at(90).toFixed(1)} ms`);
    expect(at(50)).toBeLessThan(2000);
  }, 120_000);
});
