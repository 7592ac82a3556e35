import { readFileSync } from 'node:fs';
import MiniSearch from 'minisearch';
import { offlineFeatures, embedOffline, DEFAULT_OFFLINE_WEIGHTS, type OfflineWeights } from '/work/main/server/src/core/llm/offline-embedder.ts';
import { lexemes, countTokens } from '/work/main/server/src/core/knowledge/text/tokenize.ts';
const SETS = (process.env.SETS ?? 'cmrc2018,drcd,squad2,xquad/en,xquad/zh').split(',');
const rd = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
function metrics(ranks: number[]) { const n = ranks.length; return { h1: ranks.filter(r => r === 1).length / n, h5: ranks.filter(r => r >= 1 && r <= 5).length / n, mrr: ranks.reduce((s, r) => s + (r >= 1 && r <= 10 ? 1 / r : 0), 0) / n }; }
const dims = Number(process.env.DIMS ?? 512);
const wsets: Record<string, OfflineWeights> = JSON.parse(process.env.W ?? JSON.stringify({ def: DEFAULT_OFFLINE_WEIGHTS }));
const fusions: [number, number, number][] = JSON.parse(process.env.F ?? '[[1,1,60],[0.5,1,60],[0.3,1,60],[1,1,10],[0.5,1,10]]');
for (const set of SETS) {
  const dir = `/work/shared/data/${set}`;
  const P = rd(`${dir}/dev-passages.jsonl`); const Q = rd(`${dir}/dev-questions.jsonl`);
  // BM25 as in SQL
  const docs = P.map((p: any) => { const toks = lexemes(p.text, 'index'); const tf = new Map<string, number>(); for (const t of toks) tf.set(t, (tf.get(t) ?? 0) + 1); return { id: p.id, tf, dl: process.env.DL === 'lex' ? toks.length : process.env.DL === 'dist' ? tf.size : countTokens(p.text) }; });
  const df = new Map<string, number>(); for (const d of docs) for (const t of d.tf.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const N = docs.length; const avgdl = docs.reduce((s, d) => s + d.dl, 0) / N;
  const k1 = Number(process.env.K1 ?? 1.2), b = Number(process.env.B ?? 0.75);
  const textRank = Q.map((q: any) => { const terms = [...new Set(lexemes(q.question, 'query'))]; const sc = docs.map((d, i) => { let s = 0; for (const t of terms) { const f = d.tf.get(t); if (!f) continue; const n = df.get(t)!; s += Math.log(1 + (N - n + 0.5) / (n + 0.5)) * (f * (k1 + 1) / (f + k1 * (1 - b + b * d.dl / avgdl)) + Number(process.env.DELTA ?? 0)); } return [i, s] as [number, number]; }).filter(x => x[1] > 0).sort((a, b) => b[1] - a[1]); return sc.slice(0, 50).map(x => x[0]); });
  const tr = metrics(Q.map((q: any, qi: number) => { const r = textRank[qi]!.findIndex((i: number) => P[i].id === q.passage_id); return r >= 0 ? r + 1 : 0; }));
  const mini = new MiniSearch<any>({ fields: ['text'], idField: 'id', tokenize: (t: string) => lexemes(t, 'index'), processTerm: (t: string) => t, searchOptions: { combineWith: 'OR', tokenize: (t: string) => lexemes(t, 'query'), processTerm: (t: string) => t } });
  mini.addAll(P.filter((p: any, i: number) => P.findIndex((o: any) => o.text === p.text) === i));
  const pr = metrics(Q.map((q: any) => { const r = mini.search(q.question).slice(0, 10).findIndex((h: any) => h.id === q.passage_id); return r >= 0 ? r + 1 : 0; }));
  let line = `${set.padEnd(9)} peer ${pr.mrr.toFixed(3)}/${pr.h1.toFixed(3)} text ${tr.mrr.toFixed(3)}/${tr.h1.toFixed(3)}`;
  for (const [wname, w] of Object.entries(wsets)) {
    const E = P.map((p: any) => embedOffline(p.text, dims, w));
    const fdf = new Map<string, number>(); for (const p of P) for (const f of offlineFeatures(p.text, w).keys()) fdf.set(f, (fdf.get(f) ?? 0) + 1);
    const mode = process.env.IDF ?? 'none';
    const rw = mode === 'none' ? undefined : (f: string) => { if (mode === 'lex' && !(f.startsWith('w:') || f.startsWith('b:'))) return Number(process.env.OTHER ?? 1); const n = fdf.get(f) ?? 0; return Math.log(1 + (N - n + 0.5) / (n + 0.5)); };
    const vecRank = Q.map((q: any) => { const qv = embedOffline(q.question, dims, w, rw); const sc = E.map((e, i) => { let s = 0; for (let j = 0; j < dims; j++) s += e[j]! * qv[j]!; return [i, s] as [number, number]; }).sort((a, b) => b[1] - a[1]); return sc.slice(0, 50).map(x => x[0]); });
    const vr = metrics(Q.map((q: any, qi: number) => { const r = vecRank[qi]!.findIndex((i: number) => P[i].id === q.passage_id); return r >= 0 ? r + 1 : 0; }));
    line += ` | ${wname}: vec ${vr.mrr.toFixed(3)}`;
    for (const [wv, wt, k] of fusions) {
      const hr = metrics(Q.map((q: any, qi: number) => { const s = new Map<number, number>(); vecRank[qi]!.forEach((i: number, r: number) => s.set(i, (s.get(i) ?? 0) + wv / (k + r + 1))); textRank[qi]!.forEach((i: number, r: number) => s.set(i, (s.get(i) ?? 0) + wt / (k + r + 1))); const order = [...s].sort((a, b) => b[1] - a[1]).map(x => x[0]); const r = order.findIndex(i => P[i].id === q.passage_id); return r >= 0 ? r + 1 : 0; }));
      line += ` h[${wv},${wt},${k}] ${hr.mrr.toFixed(3)}`;
    }
  }
  console.log(line);
}
