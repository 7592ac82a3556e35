import path from 'node:path';
import { instructionFlags } from '../core/knowledge/text/instruction-like.ts';
import { readJsonl, type DevPassage } from './eval-corpus.ts';
import { EVAL_SETS, evalData } from './eval-data.ts';

/**
 * `npm run eval:flags`: how often the ingest-time detector of instruction-like passages
 * (instruction-like.ts) flags ordinary documents — the development sets' passages, none of which
 * speaks to a model, so every flag is a false positive an admin would have to look at. Prints the
 * rate per set and the flagged passages' openings.
 *
 *   npm run eval:flags                    all sets (ENCLAVE_EVAL_DATA, else the sample)
 *   npm run eval:flags -- --data dir      the sets in dir
 */
const argv = process.argv.slice(2);
const dataDir = argv.includes('--data') ? argv[argv.indexOf('--data') + 1] : undefined;
const data = evalData(dataDir);
console.log(data.note);
let total = 0;
let flagged = 0;
for (const set of EVAL_SETS) {
  const passages = await readJsonl<DevPassage>(path.join(data.root, set, 'dev-passages.jsonl'));
  const hits = passages
    .map((p) => ({ p, flags: instructionFlags(`${p.title}\n${p.text}`) }))
    .filter((h) => h.flags.length);
  total += passages.length;
  flagged += hits.length;
  console.log(
    `${set}: ${hits.length} of ${passages.length} passages flagged (${((100 * hits.length) / passages.length).toFixed(2)} %)`,
  );
  for (const { p, flags } of hits) console.log(`  ${p.id} [${flags.join(', ')}] ${p.text.slice(0, 120)}`);
}
console.log(`all: ${flagged} of ${total} passages flagged (${((100 * flagged) / total).toFixed(2)} %)`);
