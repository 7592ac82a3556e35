import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The development sets of public question-answering data (CMRC 2018, DRCD, SQuAD 2.0, XQuAD), one
 * folder each holding `dev-passages.jsonl` and `dev-questions.jsonl` (squad2 also
 * `dev-unanswerable.jsonl`). Their sources and licences: test/fixtures/eval/README.md.
 */
export const EVAL_SETS = ['cmrc2018', 'drcd', 'squad2', 'xquad/en', 'xquad/zh'];

const SAMPLE = fileURLToPath(new URL('../../../test/fixtures/eval/', import.meta.url));

export interface EvalData {
  /** The directory holding one folder per set. */
  root: string;
  /** False for the sample shipped in the repository. */
  full: boolean;
  /** Which data this is, in a line the evaluation and benchmark commands print. */
  note: string;
}

/**
 * Where the evaluations and benchmarks read their data: the full development sets (a few MB, not
 * shipped) from `dir` (ENCLAVE_EVAL_DATA unless a command is told another), else the small sample in
 * test/fixtures/eval, enough to show every command works but not to compare figures.
 */
export function evalData(dir: string | undefined = process.env.ENCLAVE_EVAL_DATA): EvalData {
  if (!dir) {
    return {
      root: SAMPLE,
      full: false,
      note:
        'ENCLAVE_EVAL_DATA is not set: using the small sample in test/fixtures/eval, whose figures are not ' +
        'comparable with docs/retrieval.md or docs/benchmarks.md (set it to the full development sets for those)',
    };
  }
  const root = path.resolve(dir);
  if (!existsSync(path.join(root, EVAL_SETS[0]!))) {
    throw new Error(
      `${root} does not hold the development sets (no ${EVAL_SETS[0]} folder): see test/fixtures/eval/README.md`,
    );
  }
  return { root, full: true, note: `evaluation data: the development sets in ${root}` };
}
