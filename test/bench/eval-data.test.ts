import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVAL_SETS, evalData } from '../../server/src/cli/eval-data.ts';

/* The evaluations and benchmarks run from a fresh clone: without ENCLAVE_EVAL_DATA they read the
   sample shipped in test/fixtures/eval, and say so. */

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id: string; passage_id?: string });

describe('evaluation data', () => {
  it('without ENCLAVE_EVAL_DATA is the shipped sample: every set, each question answered by a passage in it', () => {
    const data = evalData(undefined);
    expect(data.full).toBe(false);
    expect(data.note).toContain('ENCLAVE_EVAL_DATA is not set');
    for (const set of EVAL_SETS) {
      const passages = new Set(lines(path.join(data.root, set, 'dev-passages.jsonl')).map((p) => p.id));
      const questions = lines(path.join(data.root, set, 'dev-questions.jsonl'));
      expect(passages.size, set).toBeGreaterThan(10);
      expect(questions.length, set).toBeGreaterThanOrEqual(passages.size);
      for (const q of questions) expect(passages.has(q.passage_id!), `${set} ${q.id}`).toBe(true);
    }
    expect(lines(path.join(data.root, 'squad2', 'dev-unanswerable.jsonl')).length).toBeGreaterThan(0);
  });

  it('is the named directory when set, and a directory without the sets is refused by name', () => {
    const sample = evalData(undefined).root;
    expect(evalData(sample)).toMatchObject({ root: path.resolve(sample), full: true });
    expect(() => evalData('/nonexistent/eval-data')).toThrow(
      '/nonexistent/eval-data does not hold the development sets',
    );
  });
});
