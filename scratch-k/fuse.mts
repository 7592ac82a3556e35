import { readFileSync } from 'node:fs';
const d = JSON.parse(readFileSync('/tmp/evalrun/dump3.json', 'utf8'));
const peer: Record<string, number> = { cmrc2018: 0.980, drcd: 0.947, squad2: 0.888, 'xquad/en': 0.972, 'xquad/zh': 0.968 };
for (const [k, wv] of [[2, 0.2], [2, 0.1], [1, 0.2], [1, 0.1], [2, 0.3], [3, 0.2], [5, 0.1], [0.5, 0.2], [1, 0.3], [2, 0.15], [0, 0.2], [1, 0.05]]) {
  let line = `k=${k} wv=${wv}:`;
  for (const [set, qs] of Object.entries<any>(d)) {
    let mrr = 0;
    for (const q of qs) {
      const s = new Map<string, number>();
      const key = (ids: string[]) => ids.join('|');
      const seenV = new Set<string>(); let rv = 0;
      for (const ids of q.vector) { const kk = key(ids); if (seenV.has(kk)) continue; seenV.add(kk); rv++; s.set(kk, (s.get(kk) ?? 0) + wv / (k + rv)); }
      const seenT = new Set<string>(); let rt = 0;
      for (const ids of q.text) { const kk = key(ids); if (seenT.has(kk)) continue; seenT.add(kk); rt++; s.set(kk, (s.get(kk) ?? 0) + 1 / (k + rt)); }
      const order = [...s].sort((a, b) => b[1] - a[1]).map((x) => x[0]);
      const r = order.findIndex((kk) => kk.split('|').includes(q.question.passage_id));
      if (r >= 0 && r < 10) mrr += 1 / (r + 1);
    }
    mrr /= qs.length;
    line += ` ${set} ${mrr.toFixed(3)}${mrr >= peer[set]! ? '' : '!'}`;
  }
  console.log(line);
}
