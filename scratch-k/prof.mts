import { readFileSync } from 'node:fs';
import { lexemes, tsvectorLiteral } from '/work/main/server/src/core/knowledge/text/tokenize.ts';
import { embedOffline } from '/work/main/server/src/core/llm/offline-embedder.ts';
import { splitSections } from '/work/main/server/src/core/knowledge/text/splitter.ts';
const P = readFileSync('/work/shared/data/cmrc2018/dev-passages.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).slice(0, 100);
lexemes('预热', 'index'); embedOffline('预热', 512);
let t = performance.now(); for (const p of P) await splitSections([{ text: p.text }]); console.log('split', (performance.now() - t) / 100);
t = performance.now(); for (const p of P) tsvectorLiteral(lexemes(p.text, 'index')); console.log('lexemes', (performance.now() - t) / 100);
t = performance.now(); for (const p of P) embedOffline(p.text, 512); console.log('embed', (performance.now() - t) / 100);
