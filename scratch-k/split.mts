import { splitSections } from '/work/main/server/src/core/knowledge/text/splitter.ts';
import { lexemes } from '/work/main/server/src/core/knowledge/text/tokenize.ts';
const zh = '第一章。'.repeat(1) + '中华人民共和国成立于1949年，首都是北京。北京是中国的政治中心！你知道吗？'.repeat(30);
const p = await splitSections([{ text: zh, page: 2 }], { chunkTokens: 100, overlapTokens: 10 });
console.log(p.length, p.map((x) => x.tokenCount), JSON.stringify(p[0]), JSON.stringify(p[1]?.text.slice(0, 40)));
const en = 'The quick brown fox jumps. It was running quickly over the lazy dogs! Then it stopped. '.repeat(40);
const q = await splitSections([{ text: en }], { chunkTokens: 100, overlapTokens: 10 });
console.log(q.length, q.map((x) => x.tokenCount), JSON.stringify(q[1]?.text.slice(0, 80)));
console.log(lexemes('The Running dogs of 臺灣的首都是臺北市 in 2024', 'index'));
