import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.ts';
import { verifyAuditChain } from '../../server/src/core/audit/audit.service.ts';
import { createBackup, restoreBackup, type BackupResult } from '../../server/src/core/backup/backup.service.ts';
import type { Database } from '../../server/src/core/db/database.ts';
import { createRetrievalService } from '../../server/src/core/knowledge/retrieval.service.ts';
import { createEmbedder } from '../../server/src/core/llm/create-embedder.ts';
import { createLocalDiskStorage } from '../../server/src/core/storage/local-disk-storage.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends, createTestDatabase, type Backend, type TestDatabase } from '../support/databases.ts';
import { newApiBot, newKnowledge, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { childEnv, killAllChildren, spawnTs } from '../support/spawn.ts';
import { until } from '../support/wait.ts';

/* Backup and restore as a round trip: a deployment with people, conversations (with a handoff),
   knowledge (chunks with embeddings) and a stored file is backed up, restored into an empty
   database and DATA_DIR, and compared table by table, vector by vector; search answers the same
   and the audit chain still verifies. On both backends, and across them. */

const tmpDirs: string[] = [];
async function tmpDir(label: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `enclave-${label}-`));
  tmpDirs.push(dir);
  return dir;
}
afterAll(async () => {
  await killAllChildren();
  await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** Every table's rows as sorted JSON text (schema_migrations aside: its applied_at is the restore's own). */
async function snapshot(db: Database): Promise<Record<string, string[]>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' AND relname <> 'schema_migrations' ORDER BY 1`,
  );
  const out: Record<string, string[]> = {};
  for (const { name } of tables) {
    const { rows } = await db.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM "${name}" t`);
    out[name] = rows.map((r) => r.j).sort();
  }
  return out;
}

const SEARCHES = ['How many vacation days do employees get?', '报销 流程', 'VPN password reset'];

async function searchAll(db: Database, userId: string) {
  const retrieval = createRetrievalService({ db, embedder: createEmbedder(loadConfig({ DATA_DIR: os.tmpdir() })) });
  const out = [];
  for (const query of SEARCHES)
    out.push(
      (await retrieval.search({ id: userId }, { query, k: 5 })).map((h) => [
        h.chunkId,
        h.documentId,
        h.score.toFixed(6),
      ]),
    );
  return out;
}

interface Seeded {
  app: TestApp;
  employee: TestUser;
  messageIds: number[];
}

/** A deployment with users, a bot conversation handed to an agent, knowledge and a stored file. */
async function seed(backend: Backend): Promise<Seeded> {
  const app = await startTestApp(backend);
  const admin = await newUser(app, { role: 'admin' });
  const agent = await newUser(app, { role: 'agent' });
  const employee = await newUser(app, { role: 'employee', name: '张伟' });
  const created = await request(app.url, 'POST', '/api/users', {
    token: admin.token,
    body: { email: 'new.hire@example.test', name: 'New Hire', password: 'a-long-enough-password', role: 'employee' },
  });
  expect(created.status).toBe(201);
  const { collectionId } = await newKnowledge(app, admin, [
    {
      title: 'Leave policy',
      text: 'Employees get 25 vacation days per year. Unused vacation days carry over until March.\n\nSick leave needs a note after three days.',
    },
    {
      title: '报销制度',
      text: '员工出差报销流程：提交发票，经理审批，财务在五个工作日内付款。\n\n餐费每天上限一百五十元。',
    },
    {
      title: 'IT help',
      text: 'To reset your VPN password, open the self-service portal and choose "Forgot password".',
    },
  ]);
  const bot = await newApiBot(app, admin, { collectionIds: [collectionId] });
  const conversation = await request(app.url, 'POST', '/api/conversations', {
    token: employee.token,
    body: { botId: bot.id },
  });
  expect(conversation.status).toBe(201);
  const id = conversation.body.conversation.id;
  const messageIds: number[] = [];
  for (const body of ['How many vacation days do I get?', '报销需要什么？']) {
    const posted = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
      token: employee.token,
      body: { body, clientId: `c-${body.length}` },
    });
    expect(posted.status).toBe(201);
    messageIds.push(posted.body.message.id);
  }
  // Let the bot finish answering (answers are rows too), then hand off to a human.
  await until(
    async () => {
      const { rows } = await app.services.db.query<{ n: number; streaming: number }>(
        `SELECT count(*) FILTER (WHERE sender_type = 'bot')::int AS n, count(*) FILTER (WHERE status = 'streaming')::int AS streaming FROM messages WHERE conversation_id = $1`,
        [id],
      );
      return rows[0]!.n >= 2 && rows[0]!.streaming === 0;
    },
    'bot answers',
    20_000,
  );
  const handoff = await request(app.url, 'POST', `/api/conversations/${id}/handoff`, {
    token: employee.token,
    body: { reason: 'user_request' },
  });
  expect(handoff.status, JSON.stringify(handoff.body)).toBeLessThan(300);
  const claim = await request(app.url, 'POST', `/api/conversations/${id}/claim`, { token: agent.token });
  expect(claim.status, JSON.stringify(claim.body)).toBeLessThan(300);
  const reply = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
    token: agent.token,
    body: { body: 'Hi, I can help with that.' },
  });
  expect(reply.status).toBe(201);
  // A stored file, as an upload or attachment would leave it.
  await createLocalDiskStorage(path.join(app.services.config.dataDir, 'files')).put(
    'attachments/demo/report.txt',
    Buffer.from('quarterly report ✓\n'),
  );
  return { app, employee, messageIds: [...messageIds, reply.body.message.id] };
}

describe.each(backends)('backup and restore on %s', (backend) => {
  it('round-trips every row, vector, sequence and stored file; search answers the same; the audit chain verifies', async () => {
    const { app, employee } = await seed(backend);
    let target: TestDatabase | undefined;
    try {
      const before = await snapshot(app.services.db);
      expect(before.chunks!.length).toBeGreaterThanOrEqual(3);
      expect(before.messages!.length).toBeGreaterThanOrEqual(5);
      expect(before.conversation_events!.length).toBeGreaterThanOrEqual(2);
      const searchBefore = await searchAll(app.services.db, employee.id);
      expect(searchBefore.every((hits) => hits.length > 0)).toBe(true);

      const archive = path.join(await tmpDir('archive'), 'backup.tar.gz');
      const t0 = performance.now();
      const backup: BackupResult = await createBackup(app.services.db, {
        dataDir: app.services.config.dataDir,
        archive,
      });
      target = await createTestDatabase(backend, { empty: true });
      const dataDir = await tmpDir('restored');
      const restored = await restoreBackup(target.db, { dataDir, archive });
      const roundTripMs = performance.now() - t0;
      console.info(
        `[backup ${backend}] archive ${backup.bytes} bytes (${(backup.bytes / 1024).toFixed(1)} KiB), ` +
          `${backup.manifest.tables.reduce((n, t) => n + t.rows, 0)} rows, ${backup.manifest.files.length} file(s); ` +
          `backup ${backup.ms} ms, restore ${restored.ms} ms, round trip ${roundTripMs.toFixed(0)} ms`,
      );

      expect(backup.manifest).toMatchObject({ format: 'enclave-backup', source: { database: app.services.db.kind } });
      expect(backup.manifest.embeddingSpace).toEqual({ model: 'enclave-offline-lexical-v1', dimensions: 512 });
      expect(backup.manifest.migrations.length).toBeGreaterThanOrEqual(6);
      const order = backup.manifest.tables.map((t) => t.name);
      expect(order.indexOf('users')).toBeLessThan(order.indexOf('messages'));
      expect(order.indexOf('documents')).toBeLessThan(order.indexOf('chunks'));

      const after = await snapshot(target.db);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const table of Object.keys(before)) expect(after[table], table).toEqual(before[table]);
      // Vectors, explicitly: every float identical.
      const vectors = async (db: Database) =>
        (await db.query<{ id: number; v: string }>('SELECT id, embedding::text AS v FROM chunks ORDER BY id')).rows;
      expect(await vectors(target.db)).toEqual(await vectors(app.services.db));
      expect(await searchAll(target.db, employee.id)).toEqual(searchBefore);

      const chain = await verifyAuditChain(target.db);
      expect(chain).toEqual({ ok: true, rows: before.audit_log!.length });
      expect(before.audit_log!.length).toBeGreaterThan(3);

      // Identity sequences continue where they were: the next message id is the one the source would give.
      const next = async (db: Database) =>
        (await db.query<{ v: number }>(`SELECT nextval(pg_get_serial_sequence('messages', 'id'))::int AS v`)).rows[0]!
          .v;
      expect(await next(target.db)).toBe(await next(app.services.db));

      expect(await readFile(path.join(dataDir, 'files/attachments/demo/report.txt'), 'utf8')).toBe(
        'quarterly report ✓\n',
      );

      // A second restore into the now non-empty deployment is refused, unless forced.
      await expect(restoreBackup(target.db, { dataDir, archive })).rejects.toThrow(/not empty/);
      await restoreBackup(target.db, { dataDir, archive, force: true });
      expect((await verifyAuditChain(target.db)).ok).toBe(true);
      expect((await snapshot(target.db)).messages).toEqual(before.messages);

      // A damaged archive is refused before anything is written.
      const work = await tmpDir('damaged');
      await tar.x({ file: archive, cwd: work });
      const messagesFile = path.join(work, 'db/messages.jsonl');
      await writeFile(messagesFile, (await readFile(messagesFile, 'utf8')).replace('vacation', 'VACATION'));
      const damaged = path.join(work, 'damaged.tar.gz');
      await tar.c({ gzip: true, file: damaged, cwd: work }, ['manifest.json', 'db', 'files']);
      const fresh = await createTestDatabase(backend, { empty: true });
      try {
        await expect(
          restoreBackup(fresh.db, { dataDir: await tmpDir('damaged-data'), archive: damaged }),
        ).rejects.toThrow(/Checksum mismatch.*db\/messages\.jsonl/);
      } finally {
        await fresh.dispose();
      }
    } finally {
      await target?.dispose();
      await app.close();
    }
  }, 180_000);
});

describe.each(process.env.TEST_DATABASE_URL ? [['pglite', 'postgres'] as const, ['postgres', 'pglite'] as const] : [])(
  'a backup from %s restores into %s',
  (from, to) => {
    it('with every row and vector identical', async () => {
      const { app } = await seed(from);
      let target: TestDatabase | undefined;
      try {
        const archive = path.join(await tmpDir('portable'), 'backup.tar.gz');
        await createBackup(app.services.db, { dataDir: app.services.config.dataDir, archive });
        target = await createTestDatabase(to, { empty: true });
        await restoreBackup(target.db, { dataDir: await tmpDir('portable-data'), archive });
        const [before, after] = [await snapshot(app.services.db), await snapshot(target.db)];
        for (const table of Object.keys(before)) expect(after[table], table).toEqual(before[table]);
        expect((await verifyAuditChain(target.db)).ok).toBe(true);
      } finally {
        await target?.dispose();
        await app.close();
      }
    }, 180_000);
  },
);

describe('npm run backup / npm run restore (embedded database)', () => {
  it('writes one archive and restores it into an empty DATA_DIR; refuses a non-empty one without --force', async () => {
    const source = await tmpDir('cli-src');
    const env = (dataDir: string) => childEnv({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const migrateRun = spawnTs('server/src/cli/migrate.ts', [], { env: env(source) });
    expect((await migrateRun.waitForExit(60_000)).code, migrateRun.stderr()).toBe(0);
    await createLocalDiskStorage(path.join(source, 'files')).put('documents/a/original', Buffer.from('%PDF-1.7 fake'));

    const archive = path.join(await tmpDir('cli-archive'), 'enclave.tar.gz');
    const backup = spawnTs('server/src/cli/backup.ts', [archive], { env: env(source) });
    expect((await backup.waitForExit(60_000)).code, backup.stderr()).toBe(0);
    expect(backup.stdout()).toMatch(
      /Backup written: .*enclave\.tar\.gz\n\s+[\d.]+ KiB, \d+ rows in \d+ tables, 1 stored file\(s\)/,
    );
    const entries: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => void entries.push(e.path) });
    expect(entries).toEqual(
      expect.arrayContaining(['manifest.json', 'db/users.jsonl', 'db/chunks.jsonl', 'files/documents/a/original']),
    );

    const target = await tmpDir('cli-dst');
    const restore = spawnTs('server/src/cli/restore.ts', [archive], { env: env(target) });
    expect((await restore.waitForExit(60_000)).code, restore.stderr()).toBe(0);
    expect(restore.stdout()).toMatch(/checksums verified/);
    expect(await readFile(path.join(target, 'files/documents/a/original'), 'utf8')).toBe('%PDF-1.7 fake');

    const again = spawnTs('server/src/cli/restore.ts', [archive], { env: env(target) });
    expect((await again.waitForExit(60_000)).code).toBe(1);
    expect(again.stderr()).toMatch(/not empty .*--force/);
    const forced = spawnTs('server/src/cli/restore.ts', [archive, '--force'], { env: env(target) });
    expect((await forced.waitForExit(60_000)).code, forced.stderr()).toBe(0);
  }, 180_000);
});
