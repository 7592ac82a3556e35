import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createProcessors } from './workers/src/processors.ts';
import { loadConfig } from './server/src/config.ts';
import { createPgliteDatabase } from './server/src/core/db/pglite.ts';
import { createPostgresDatabase } from './server/src/core/db/postgres.ts';
import { createLogger } from './server/src/core/logger.ts';
import { createUserRepository } from './server/src/core/users/user.repository.ts';
import { createDomain } from './server/src/domain.ts';
import { closeServices, openServices } from './server/src/services.ts';
import { createBackup, restoreBackup } from './server/src/core/backup/backup.service.ts';
import { verifyAuditChain } from './server/src/core/audit/audit.service.ts';
import pg from 'pg';

const backend = process.argv[2] as 'pglite' | 'postgres';
const sets = ['cmrc2018', 'drcd', 'squad2', 'xquad/en', 'xquad/zh'];
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'measure-'));
const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', JOB_CONCURRENCY: '2' });
async function pgdb(name: string) {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect(); await admin.query(`DROP DATABASE IF EXISTS ${name}`); await admin.query(`CREATE DATABASE ${name}`); await admin.end();
  return createPostgresDatabase(`postgres://postgres@127.0.0.1:5432/${name}`);
}
const db = backend === 'pglite' ? await createPgliteDatabase({ dataDir: path.join(dataDir, 'db') }) : await pgdb('measure_src');
const services = await openServices(config, createLogger('silent'), createProcessors, { db, secret: 'x'.repeat(40) });
await services.jobs.startProcessing();
const domain = createDomain(services);
const user = await createUserRepository(db).insert({ email: 'm@x.local', name: 'M', passwordHash: null, role: 'admin' });
const actor = { id: user.id, email: user.email, name: user.name, role: 'admin' as const, groupIds: [], credential: { kind: 'session' as const, id: 'm' } };
let n = 0;
const t0 = Date.now();
for (const set of sets) {
  const collection = await domain.knowledge.createCollection(actor, { name: set }, { ip: '127.0.0.1' });
  const passages = (await readFile(`/work/shared/data/${set}/dev-passages.jsonl`, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  for (const p of passages) { await domain.knowledge.addSource(actor, collection.id, { kind: 'text', title: p.title, text: p.text }, { ip: '127.0.0.1' }).catch(() => {}); n++; }
}
for (;;) {
  const { rows } = await db.query<{ pending: number }>(`SELECT count(*) FILTER (WHERE status IN ('queued','processing'))::int AS pending FROM documents`);
  if (rows[0]!.pending === 0) break;
  await new Promise((r) => setTimeout(r, 500));
}
const ingestS = (Date.now() - t0) / 1000;
const { rows: c } = await db.query<{ d: number; ch: number }>('SELECT (SELECT count(*)::int FROM documents) AS d, (SELECT count(*)::int FROM chunks) AS ch');
const archive = path.join(dataDir, 'backup.tar.gz');
const b = await createBackup(db, { dataDir, archive });
await closeServices(services, 5000);
const target = backend === 'pglite' ? await createPgliteDatabase() : await pgdb('measure_dst');
const t1 = Date.now();
const r = await restoreBackup(target, { dataDir: await mkdtemp(path.join(os.tmpdir(), 'measure-dst-')), archive });
const chain = await verifyAuditChain(target);
console.log(JSON.stringify({ backend, passages: n, documents: c[0]!.d, chunks: c[0]!.ch, ingestS, archiveBytes: b.bytes, rows: b.manifest.tables.reduce((s, t) => s + t.rows, 0), files: b.manifest.files.length, backupMs: b.ms, restoreMs: Date.now() - t1, roundTripMs: b.ms + (Date.now() - t1), chain }));
await target.close();
await rm(dataDir, { recursive: true, force: true });
process.exit(0);
