import path from 'node:path';
import OpenAI from 'openai';
import { startFakeOpenAi } from '../../test/support/fake-openai.ts';
import { startChild } from '../lib/child.ts';
import { mapLimit, must } from '../lib/http.ts';
import { summarizeProfile } from '../lib/profile.ts';
import { machineInfo, RESULTS_DIR, type ScenarioResult } from '../lib/report.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { openSockets } from '../lib/sockets.ts';
import { sleep, summarize } from '../lib/stats.ts';
import { DATA_ROOT, readJsonl, type Passage } from './retrieval-data.ts';

/**
 * Bot answers with an instant model (the loopback OpenAI-protocol server of test/support): POST a
 * question → the first `message.delta` and → `message.completed` at the asker's socket, one at a
 * time, then answers/s with 16 askers at once. Baseline: the same model's time to first token and
 * to the end of the stream, asked directly by the OpenAI SDK from the bench in the same run.
 */
const REPLY = ['According to the passage, ', 'the answer ', 'is in ', 'the first ', 'paragraph ', '[1].'];
const CALM = '{"wants_person": 0, "frustrated": 0, "complaint": 0}';
const CONCURRENCY = 16;

function settings(quick: boolean) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  return quick
    ? { sequential: env('BENCH_ANSWERS_SEQUENTIAL', 3), seconds: env('BENCH_ANSWERS_SECONDS', 1.5), passages: 3 }
    : { sequential: env('BENCH_ANSWERS_SEQUENTIAL', 40), seconds: env('BENCH_ANSWERS_SECONDS', 10), passages: 20 };
}

export const answers: Scenario = {
  name: 'answers',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const { deployment, log } = ctx;
    const s = settings(ctx.quick);
    // The bot's model also reads each message for a handoff (the handoff-classifier prompt): nothing to hand off.
    const model = await startFakeOpenAi((call) =>
      call.body.messages.some((m) => m.content.includes('"wants_person"')) ? { reply: CALM } : { reply: REPLY },
    );
    const server = await startChild('enclave-server.ts', {
      ...deployment.env,
      OPENAI_BASE_URL: model.baseUrl,
      CHAT_MODEL: 'fake-model',
    });
    try {
      const [admin] = await server.call<{ id: string; token: string }[]>('users', {
        count: 1,
        role: 'admin',
        label: 'ans-admin',
      });
      const askers = await server.call<{ id: string; token: string }[]>('users', {
        count: CONCURRENCY,
        label: 'asker',
      });
      const passages = readJsonl<Passage>(path.join(DATA_ROOT, 'squad2/dev-passages.jsonl')).slice(0, s.passages);
      const ids = new Set(passages.map((p) => p.id));
      const questions = readJsonl<{ question: string; passage_id: string }>(
        path.join(DATA_ROOT, 'squad2/dev-questions.jsonl'),
      )
        .filter((q) => ids.has(q.passage_id))
        .map((q) => q.question);
      const collection = (
        await must([201], server.url, 'POST', '/api/collections', admin!.token, { name: 'Bench answers' })
      ).collection.id as string;
      await mapLimit(passages, 4, (p) =>
        must([202], server.url, 'POST', `/api/collections/${collection}/documents`, admin!.token, {
          title: p.title,
          text: p.text,
        }),
      );
      for (let i = 0; ; i++) {
        const [row] = await server.call<{ n: number }[]>('sql', {
          sql: `SELECT count(*)::int AS n FROM documents WHERE collection_id = $1 AND status = 'ready'`,
          params: [collection],
        });
        if (row!.n >= passages.length) break;
        if (i > 1200) throw new Error('knowledge for the answers scenario never became ready');
        await sleep(50);
      }
      const bot = (
        await must([201], server.url, 'POST', '/api/bots', admin!.token, {
          slug: 'bench-bot',
          name: 'Bench bot',
          collectionIds: [collection],
          handoff: { minScore: 0 },
        })
      ).bot.id as string;

      const waiting = new Map<string, { delta?: (t: number) => void; done?: (t: number, answered: boolean) => void }>();
      const onFrame = (_i: number, frame: string) => {
        if (frame.startsWith('{"type":"message.delta"')) {
          const f = JSON.parse(frame) as { conversationId: string };
          const w = waiting.get(f.conversationId);
          w?.delta?.(performance.now());
          if (w) w.delta = undefined;
        } else if (frame.startsWith('{"type":"message.completed"') || frame.startsWith('{"type":"message.created"')) {
          const f = JSON.parse(frame) as { type: string; message: { conversationId: string; senderType: string } };
          if (f.message.senderType !== 'bot') return;
          // A bot message.created that is not a streaming draft is a "no answer" reply.
          if (f.type === 'message.created' && (f.message as { status?: string }).status === 'streaming') return;
          waiting.get(f.message.conversationId)?.done?.(performance.now(), f.type === 'message.completed');
        }
      };
      const pool = await openSockets(
        server.url,
        askers.map((a) => a.token),
        onFrame,
      );
      let unanswered = 0;
      const ask = async (asker: number, question: string) => {
        const conversation = (
          await must([200, 201], server.url, 'POST', '/api/conversations', askers[asker]!.token, { botId: bot })
        ).conversation.id as string;
        const firstDelta = new Promise<number>((resolve) => waiting.set(conversation, { delta: resolve }));
        const completed = new Promise<{ t: number; answered: boolean }>((resolve) => {
          waiting.get(conversation)!.done = (t, answered) => resolve({ t, answered });
        });
        const t0 = performance.now();
        await must([201], server.url, 'POST', `/api/conversations/${conversation}/messages`, askers[asker]!.token, {
          body: question,
        });
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no answer within 60 s in ${conversation}`)), 60_000).unref(),
        );
        const done = await Promise.race([completed, timeout]);
        waiting.delete(conversation);
        if (!done.answered) unanswered += 1;
        const delta = await Promise.race([firstDelta, Promise.resolve(Number.NaN)]);
        return { firstDelta: delta - t0, completed: done.t - t0 };
      };

      const client = new OpenAI({ baseURL: model.baseUrl, apiKey: 'not-needed', maxRetries: 0 });
      const direct = async (question: string) => {
        const t0 = performance.now();
        let first = Number.NaN;
        const stream = await client.chat.completions.create({
          model: 'fake-model',
          stream: true,
          messages: [{ role: 'user', content: question }],
        });
        for await (const chunk of stream)
          if (Number.isNaN(first) && chunk.choices?.[0]?.delta?.content) first = performance.now() - t0;
        return { firstToken: first, completed: performance.now() - t0 };
      };

      // Warm-up, then one at a time, alternating Enclave and the direct model call.
      await ask(0, questions[0]!);
      await direct(questions[0]!);
      const profileFile = ctx.profile ? path.join(RESULTS_DIR, `answers-${deployment.backend}.cpuprofile`) : undefined;
      await deployment.quiesce();
      if (profileFile) await server.call('profileStart');
      await server.call('traceStart');
      log(`  ${s.sequential} answers one at a time…`);
      const seqE: { firstDelta: number; completed: number }[] = [];
      const seqB: { firstToken: number; completed: number }[] = [];
      for (let i = 0; i < s.sequential; i++) {
        seqE.push(await ask(i % CONCURRENCY, questions[(i + 1) % questions.length]!));
        seqB.push(await direct(questions[(i + 1) % questions.length]!));
      }
      if (profileFile) await server.call('profileStop', { file: profileFile });
      const trace = await server.call<{ statements: { sql: string; n: number; totalMs: number; meanMs: number }[] }>(
        'traceStop',
      );
      const sqlPerAnswer = trace.statements.reduce((a, st) => a + st.totalMs, 0) / (s.sequential * 1);

      log(`  ${CONCURRENCY} askers at once for ${s.seconds} s…`);
      await deployment.quiesce();
      const runFor = async (fn: (loop: number, i: number) => Promise<unknown>) => {
        const deadline = Date.now() + s.seconds * 1000;
        let count = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async (_, loop) => {
            while (Date.now() < deadline) {
              await fn(loop, count);
              count += 1;
            }
          }),
        );
        return count / ((performance.now() - started) / 1000);
      };
      const concurrentE: number[] = [];
      const rateE = await runFor(async (loop, i) =>
        concurrentE.push((await ask(loop, questions[i % questions.length]!)).completed),
      );
      const rateB = await runFor((_, i) => direct(questions[i % questions.length]!));
      await pool.close();

      const fd = summarize(seqE.map((x) => x.firstDelta));
      const done = summarize(seqE.map((x) => x.completed));
      const ttft = summarize(seqB.map((x) => x.firstToken));
      const mdone = summarize(seqB.map((x) => x.completed));
      const c16 = summarize(concurrentE);
      const profile = profileFile ? await summarizeProfile(profileFile) : undefined;
      return {
        scenario: 'answers',
        backend: deployment.backend,
        quick: ctx.quick,
        baseline:
          'the fake model’s own time to first token / to the end of the stream, asked directly with the OpenAI SDK from the bench',
        rows: [
          {
            metric: 'POST → first delta p50',
            value: fd.p50,
            unit: 'ms',
            baseline: ttft.p50,
            ratio: fd.p50 / ttft.p50,
            target: '≤ +50 ms',
            ok: fd.p50 - ttft.p50 <= 50,
            note: `overhead ${(fd.p50 - ttft.p50).toFixed(1)} ms`,
          },
          { metric: 'POST → first delta p99', value: fd.p99, unit: 'ms', baseline: ttft.p99, ratio: fd.p99 / ttft.p99 },
          {
            metric: 'POST → completed p50',
            value: done.p50,
            unit: 'ms',
            baseline: mdone.p50,
            ratio: done.p50 / mdone.p50,
          },
          {
            metric: 'POST → completed p99',
            value: done.p99,
            unit: 'ms',
            baseline: mdone.p99,
            ratio: done.p99 / mdone.p99,
          },
          { metric: `answers/s @${CONCURRENCY}`, value: rateE, unit: '/s', baseline: rateB, ratio: rateE / rateB },
          { metric: `POST → completed p50 @${CONCURRENCY}`, value: c16.p50, unit: 'ms' },
          { metric: 'replies without an answer', value: unanswered, unit: '', target: '0', ok: unanswered === 0 },
        ],
        stages: {
          'SQL per answer, POST + job (ms, top statements)': sqlPerAnswer,
          'model TTFT (p50 ms)': ttft.p50,
          'Enclave before the first delta (p50 ms)': fd.p50 - ttft.p50,
          'first delta → completed (p50 ms)': done.p50 - fd.p50,
        },
        slowestStage:
          fd.p50 - ttft.p50 >= done.p50 - fd.p50
            ? 'before the first delta: POST commit → enqueue → job start → retrieval → prompt → model request'
            : 'after the first delta: persisting the answer and publishing message.completed',
        details: {
          settings: s,
          sqlTrace: trace,
          sequential: { firstDelta: fd, completed: done },
          model: { firstToken: ttft, completed: mdone },
          concurrent: c16,
          ...(profile ? { profile } : {}),
        },
        machine: machineInfo(),
      };
    } finally {
      await server.stop();
      await model.close();
    }
  },
};
