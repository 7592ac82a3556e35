import path from 'node:path';
import { createBotRepository } from '../core/bots/bot.repository.ts';
import { readJsonl, withIngestedCorpus, type DevPassage, type DevQuestion } from './eval-corpus.ts';
import { evalData } from './eval-data.ts';

/**
 * `npm run eval:answers`: how the bot's offline answerer does on squad2 dev (see eval-data.ts). Every answerable
 * question should be answered citing the passage that answers it; every question from
 * dev-unanswerable.jsonl should be declined (nothing confident found, or nothing quotable).
 *
 *   npm run eval:answers -- --min-score 0.3     the bot's confidence threshold to evaluate
 */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const data = evalData();
  process.stdout.write(`${data.note}\n`);
  const dir = path.join(data.root, 'squad2');
  const passages = await readJsonl<DevPassage>(path.join(dir, 'dev-passages.jsonl'));
  const answerable = await readJsonl<DevQuestion>(path.join(dir, 'dev-questions.jsonl'));
  const unanswerable = await readJsonl<DevQuestion>(path.join(dir, 'dev-unanswerable.jsonl'));
  const thresholds = (option('min-score') ?? '0.2,0.25,0.3,0.35,0.4').split(',').map(Number);

  await withIngestedCorpus('squad2', passages, async (corpus) => {
    const { services, domain, actor, collectionId, passagesOf, ingestSeconds } = corpus;
    process.stdout.write(`squad2: ${passages.length} passages ingested in ${ingestSeconds.toFixed(1)} s\n`);
    const bot = await createBotRepository(services.db).insert({
      slug: 'eval',
      name: 'Eval',
      description: '',
      greeting: '',
      language: 'auto',
      collectionIds: [collectionId],
      prompts: {},
      model: {},
      handoff: { minScore: 0 },
      enabled: true,
    });
    const { answerer } = domain;
    const never = new AbortController().signal;

    /** Per question: its confidence, and whether the offline answer (if any) cites the right passage. */
    async function run(q: DevQuestion) {
      const prepared = await answerer.prepare(bot, actor.id, q.question, [], null);
      const answer = await answerer.generate(prepared, { kind: 'answer', conversationId: null }, never, () => {});
      const cites =
        answer.outcome === 'answered' &&
        answer.citations.some((c) => (passagesOf.get(c.documentId) ?? []).includes(q.passage_id));
      return { confidence: prepared.confidence, answered: answer.outcome === 'answered', cites };
    }
    const a = [];
    for (const q of answerable) a.push(await run(q));
    const u = [];
    for (const q of unanswerable) u.push(await run(q));

    process.stdout.write(
      `\n| minScore | answerable: answered citing the right passage | unanswerable: declined or handed off |\n| --- | --- | --- |\n`,
    );
    for (const t of thresholds) {
      const right = a.filter((r) => r.confidence >= t && r.answered && r.cites).length / a.length;
      const declined = u.filter((r) => r.confidence < t || !r.answered).length / u.length;
      process.stdout.write(`| ${t} | ${(right * 100).toFixed(1)}% | ${(declined * 100).toFixed(1)}% |\n`);
    }
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Evaluation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
