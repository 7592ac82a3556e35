import { createParserPool } from '/work/main/server/src/core/knowledge/parsing/parser-pool.ts';
const pool = createParserPool();
console.log(JSON.stringify(await pool.parse(new TextEncoder().encode('# Hello\nworld\n## Sub\n中文。'), 'text/markdown')));
console.log(JSON.stringify(await pool.parse(new TextEncoder().encode('a,b\n1,"x,y"\n'), 'text/csv')));
await pool.parse(new TextEncoder().encode('%PDF-1.4 garbage'), 'application/pdf').catch((e) => console.log('err', e.name, e.message));
await pool.close();
