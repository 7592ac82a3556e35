import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../server/src/core/llm/chat-model.ts';
import { createOpenAiChatModel } from '../../server/src/core/llm/openai-chat-model.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';

/*
 * A model server sends its stream's headers at once and the tokens when it has them. A first token
 * or a next one that never comes in time is a failed answer — never an empty reply (which would
 * read as "the documents do not say") nor a truncated one passed off as complete.
 */

let model: Awaited<ReturnType<typeof startFakeOpenAi>>;
beforeAll(async () => {
  model = await startFakeOpenAi();
});
afterAll(() => model.close());

const client = () =>
  createOpenAiChatModel({
    baseUrl: model.baseUrl,
    model: 'fake-model',
    firstTokenTimeoutMs: 300,
    idleTimeoutMs: 300,
    attempts: 2,
    backoffMs: 10,
  });
const ask = (deltas: string[] = []) =>
  client().stream({ messages: [{ role: 'user', content: 'How many days of leave?' }] }, (d) => deltas.push(d));

describe('the OpenAI-compatible chat model', () => {
  it('fails a stream whose first token comes later than MODEL_TIMEOUT_MS, after trying again', async () => {
    model.set(() => ({ reply: 'Fifteen days.', firstTokenDelayMs: 2000 }));
    const before = model.calls.length;
    const error = await ask().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(/stopped responding/);
    expect(model.calls.length - before).toBe(2);
  });

  it('fails a stream that falls silent for longer than MODEL_IDLE_TIMEOUT_MS, without starting over', async () => {
    model.set(() => ({ reply: ['Fifteen ', 'days ', 'of ', 'leave.'], chunkDelayMs: 2000 }));
    const before = model.calls.length;
    const deltas: string[] = [];
    const error = await ask(deltas).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(/stopped responding/);
    expect(deltas).toEqual(['Fifteen ']);
    expect(model.calls.length - before).toBe(1);
  });

  it('still streams a timely answer whole', async () => {
    model.set(() => ({ reply: ['Fifteen ', 'days.'], firstTokenDelayMs: 50, chunkDelayMs: 50 }));
    const result = await ask();
    expect(result).toMatchObject({ text: 'Fifteen days.', finishReason: 'stop', completionTokens: 2 });
  });
});
