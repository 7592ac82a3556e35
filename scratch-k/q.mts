import { mkdtemp } from 'node:fs/promises';
import os from 'node:os'; import path from 'node:path'; import { readFileSync } from 'node:fs';
import { createProcessors } from '/work/main/workers/src/processors.ts';
import { loadConfig } from '/work/main/server/src/config.ts';
import { createPgliteDatabase } from '/work/main/server/src/core/db/pglite.ts';
import { createLogger } from '/work/main/server/src/core/logger.ts';
import { createUserRepository } from '/work/main/server/src/core/users/user.repository.ts';
import { createDomain } from '/work/main/server/src/domain.ts';
import { openServices, closeServices } from '/work/main/server/src/services.ts';
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'q-'));
const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
const db = await createPgliteDatabase();
const services = await openServices(config, createLogger('silent'), createProcessors, { db, secret: 'x'.repeat(40) });
await services.jobs.startProcessing();
const domain = createDomain(services);
const user = await createUserRepository(db).insert({ email: 'e@x.y', name: 'E', passwordHash: null, role: 'admin' });
const actor: any = { id: user.id, role: 'admin' };
const c = await domain.knowledge.createCollection(actor, { name: 'c' }, { ip: 'x' });
const P = readFileSync('/work/shared/data/cmrc2018/dev-passages.jsonl', 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).slice(0, 40);
let t = Date.now();
for (const p of P) await domain.knowledge.addSource(actor, c.id, { kind: 'text', title: p.title, text: p.text }, { ip: 'x' });
for (;;) { const { rows } = await db.query<any>(`SELECT count(*)::int n FROM documents WHERE status IN ('queued','processing')`); if (!rows[0].n) break; await new Promise((r) => setTimeout(r, 100)); }
console.log('ingest', Date.now() - t);
for (const mode of ['vector', 'text', 'hybrid'] as const) { t = performance.now(); for (let i = 0; i < 10; i++) await domain.retrieval.search(actor, { query: '在吕志兴韧带伤势康复后，何时转投大埔的？', k: 30 }, { mode }); console.log(mode, (performance.now() - t) / 10); }

const { lexemes } = await import('/work/main/server/src/core/knowledge/text/tokenize.ts');
const terms = [...new Set(lexemes('在吕志兴韧带伤势康复后，何时转投大埔的？', 'query'))];
const origQuery = db.query.bind(db);
(db as any).query = async (sql: string, params: any[]) => { if (sql.includes('WITH q AS')) { const r = await origQuery('EXPLAIN ANALYZE ' + sql, params); console.log(r.rows.map((x: any) => x['QUERY PLAN']).join('\n')); } return origQuery(sql, params); };
await domain.retrieval.search(actor, { query: '在吕志兴韧带伤势康复后，何时转投大埔的？', k: 30 }, { mode: 'text' });
await closeServices(services, 1000);
