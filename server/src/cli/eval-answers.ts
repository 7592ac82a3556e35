import { createBotRepository } from '../core/bots/bot.repository.ts';
import { answerCases, type AnswerCase, type CaseKind } from './answer-cases.ts';
import { withIngestedCorpus } from './eval-corpus.ts';
import { EVAL_SETS, evalData } from './eval-data.ts';

/**
 * `npm run eval:answers`: asks the bot every question of answer-cases.ts through the one answer
 * pipeline (the same `prepare` → decision → `generate` as conversations, the copilot and /v1), each
 * development set ingested as the bot's only collection, and prints per set and language:
 * answerable questions answered citing the passage that answers them, squad2's unanswerable ones
 * declined, and off-topic ones (another set's questions) declined.
 *
 *   npm run eval:answers                        half "b" (the half `npm run fit:answers` did not fit on)
 *   npm run eval:answers -- --half a|all        the fitting half, or every question
 *   npm run eval:answers -- --sets squad2,drcd  some corpora
 *   npm run eval:answers -- --model             with the OpenAI-compatible endpoint configured in the
 *                                               environment (OPENAI_BASE_URL, CHAT_MODEL …) instead of offline
 */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const MODEL_SETTING = /^(OPENAI_|CHAT_|EMBEDDING_|RERANK_|MODEL_)/;

interface Result {
  case: AnswerCase;
  corpus: string;
  /** Answered citing the right passage (answerable) or declined (the others). */
  right: boolean;
}

const LABEL: Record<CaseKind, string> = {
  answerable: 'answerable: answered citing the right passage',
  unanswerable: 'unanswerable: declined',
  'off-topic': 'off-topic: declined',
};

async function main() {
  const data = evalData();
  const half = option('half') ?? 'b';
  const withModel = process.argv.includes('--model');
  const sets = (option('sets') ?? EVAL_SETS.join(',')).split(',').filter(Boolean);
  process.stdout.write(
    `${data.note}\nquestions: half ${half}; answers: ${withModel ? 'the configured model' : 'offline'}\n`,
  );
  const results: Result[] = [];
  for (const { corpus, passages, cases } of await answerCases(data.root, sets)) {
    const asked = cases.filter((c) => half === 'all' || c.half === half);
    // Only the model settings: the corpus lives in its own throwaway embedded deployment.
    const env = withModel ? Object.fromEntries(Object.entries(process.env).filter(([k]) => MODEL_SETTING.test(k))) : {};
    await withIngestedCorpus(
      corpus,
      passages,
      { env },
      async ({ services, domain, actor, collectionId, passagesOf }) => {
        const bot = await createBotRepository(services.db).insert({
          slug: 'eval',
          name: 'Eval',
          description: '',
          greeting: '',
          language: 'auto',
          collectionIds: [collectionId],
          prompts: {},
          model: {},
          handoff: {},
          enabled: true,
        });
        const { answerer } = domain;
        const never = new AbortController().signal;
        for (const c of asked) {
          const prepared = await answerer.prepare(bot, actor.id, c.question, [], null);
          const answer = answerer.confident(prepared)
            ? await answerer.generate(prepared, { kind: 'answer', conversationId: null }, never, () => {})
            : undefined;
          const answered = answer?.outcome === 'answered';
          const cites =
            answered && answer.citations.some((x) => (passagesOf.get(x.documentId) ?? []).includes(c.passageId ?? ''));
          results.push({ case: c, corpus, right: c.kind === 'answerable' ? cites : !answered });
        }
        process.stdout.write(`${corpus}: ${asked.length} questions\n`);
      },
    );
  }

  const pct = (rows: Result[]) =>
    rows.length ? `${((rows.filter((r) => r.right).length / rows.length) * 100).toFixed(1)}% of ${rows.length}` : '—';
  process.stdout.write(
    `\n| documents | questions | ${Object.values(LABEL).join(' | ')} |\n| --- | --- | --- | --- | --- |\n`,
  );
  for (const corpus of sets) {
    for (const language of ['en', 'zh'] as const) {
      const rows = results.filter((r) => r.corpus === corpus && r.case.language === language);
      if (!rows.length) continue;
      const cells = (Object.keys(LABEL) as CaseKind[]).map((kind) => pct(rows.filter((r) => r.case.kind === kind)));
      process.stdout.write(`| ${corpus} | ${language} | ${cells.join(' | ')} |\n`);
    }
  }
  process.stdout.write(`\n| all documents | ${Object.values(LABEL).join(' | ')} |\n| --- | --- | --- | --- |\n`);
  for (const language of ['en', 'zh'] as const) {
    const rows = results.filter((r) => r.case.language === language);
    const cells = (Object.keys(LABEL) as CaseKind[]).map((kind) => pct(rows.filter((r) => r.case.kind === kind)));
    process.stdout.write(`| ${language} questions | ${cells.join(' | ')} |\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Evaluation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
