import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnswerability } from '../../server/src/core/bots/answerability.ts';
import { createOfflineReranker } from '../../server/src/core/knowledge/reranker.ts';
import { startFakeOpenAi } from '../support/fake-openai.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';

// On the sample in test/fixtures/eval (ENCLAVE_EVAL_DATA unset): the commands work end to end; the
// figures that matter come from the full development sets (docs/answers.md).
const sample = childEnv({ ENCLAVE_EVAL_DATA: undefined });

describe('the answer evaluation and fitting commands', () => {
  afterAll(() => killAllChildren());

  it('fit:answers fits both models on half the questions and writes files the pipeline loads', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'fit-answers-'));
    try {
      const cli = spawnTs('server/src/cli/fit-answers.ts', ['--out', out, '--sets', 'squad2,cmrc2018'], {
        env: sample,
      });
      const exit = await cli.waitForExit(240_000);
      expect(cli.stderr()).toBe('');
      expect(exit.code).toBe(0);
      expect(cli.stdout()).toMatch(/answerability fitted on \d+ questions; threshold [\d.]+, cut-off [\d.]+/);
      expect(cli.stdout()).toMatch(/\| b \| [\d.]+% \| [\d.]+% \| [\d.]+% \| [\d.]+% \|/);
      const answerability = createAnswerability(pathToFileURL(path.join(out, 'answerability-model.json')));
      expect(answerability.threshold).toBeGreaterThan(0);
      expect(answerability.threshold).toBeLessThan(1);
      const reranker = createOfflineReranker(pathToFileURL(path.join(out, 'reranker-model.json')));
      expect(reranker.relevance({ coverage: 1, sentenceCoverage: 1, fusedRR: 1 } as never)).toBeGreaterThan(
        reranker.relevance({ coverage: 0, sentenceCoverage: 0, fusedRR: 0.1, missingRare: 1 } as never),
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 300_000);

  it('eval:answers reports every set and language, offline or through a configured model', async () => {
    const offline = spawnTs('server/src/cli/eval-answers.ts', ['--half', 'all', '--sets', 'squad2,cmrc2018'], {
      env: sample,
    });
    expect((await offline.waitForExit(240_000)).code).toBe(0);
    expect(offline.stdout()).toMatch(/\| squad2 \| en \| [\d.]+% of \d+ \| [\d.]+% of \d+ \| — \|/);
    expect(offline.stdout()).toMatch(/\| cmrc2018 \| zh \| [\d.]+% of \d+ \| — \| [\d.]+% of \d+ \|/);
    expect(offline.stdout()).toMatch(/\| zh questions \|/);

    const model = await startFakeOpenAi(() => ({ reply: 'An answer from the model [1].' }));
    try {
      const withModel = spawnTs('server/src/cli/eval-answers.ts', ['--sets', 'squad2', '--model'], {
        env: childEnv({ ENCLAVE_EVAL_DATA: undefined, OPENAI_BASE_URL: model.baseUrl, CHAT_MODEL: 'fake-model' }),
      });
      expect((await withModel.waitForExit(240_000)).code).toBe(0);
      expect(withModel.stdout()).toMatch(/answers: the configured model/);
      expect(model.calls.some((c) => c.body.messages.some((m) => m.content.includes('[1] ')))).toBe(true);
    } finally {
      await model.close();
    }
  }, 300_000);
});
