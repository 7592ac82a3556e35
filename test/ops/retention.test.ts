import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../server/src/core/audit/audit.service.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createLocalDiskStorage } from '../../server/src/core/storage/local-disk-storage.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { until } from '../support/wait.ts';

/* Message and file retention, applied by the daily `retention` job and audited. */

describe('retention settings', () => {
  it('are off by default and bounded', () => {
    const config = loadConfig({});
    expect(config.messageRetentionDays).toBe(0);
    expect(config.fileRetentionDays).toBe(0);
    expect(loadConfig({ MESSAGE_RETENTION_DAYS: '30', FILE_RETENTION_DAYS: '7' })).toMatchObject({
      messageRetentionDays: 30,
      fileRetentionDays: 7,
    });
    expect(() => loadConfig({ MESSAGE_RETENTION_DAYS: '-1' })).toThrow(/MESSAGE_RETENTION_DAYS/);
  });
});

describe.each(backends)('the retention job on %s', (backend) => {
  let app: TestApp;
  let employee: TestUser;
  beforeAll(async () => {
    app = await startTestApp(backend, { env: { MESSAGE_RETENTION_DAYS: '30', FILE_RETENTION_DAYS: '7' } });
    employee = await newUser(app);
  });
  afterAll(async () => app?.close());

  async function conversationWith(bodies: string[]) {
    const created = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { kind: 'support' },
    });
    expect(created.status).toBe(201);
    const id: string = created.body.conversation.id;
    for (const [i, body] of bodies.entries()) {
      const posted = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
        token: employee.token,
        body: { body, clientId: `${id}-${i}` },
      });
      expect(posted.status).toBe(201);
    }
    return id;
  }
  const age = (table: string, column: string, days: number, where: string, params: unknown[]) =>
    app.services.db.query(
      `UPDATE ${table} SET ${column} = now() - make_interval(days => ${days}) WHERE ${where}`,
      params,
    );

  it('deletes old messages, emptied old conversations and old attachments with their files, audits it, and keeps the rest', async () => {
    const db = app.services.db;
    const storage = createLocalDiskStorage(path.join(app.services.config.dataDir, 'files'));
    // An old, finished conversation: everything in it is past retention.
    const old = await conversationWith(['old question', 'old follow-up']);
    await age('messages', 'created_at', 40, 'conversation_id = $1', [old]);
    await db.query(
      `UPDATE conversations SET status = 'resolved', last_message_at = now() - interval '40 days' WHERE id = $1`,
      [old],
    );
    // A conversation with one old and one recent message, still waiting for an agent.
    const mixed = await conversationWith(['ancient', 'fresh']);
    await age('messages', 'created_at', 45, `conversation_id = $1 AND body = 'ancient'`, [mixed]);
    await db.query(`UPDATE conversations SET status = 'queued', queued_at = now() WHERE id = $1`, [mixed]);
    // Attachments: one 10 days old (past FILE_RETENTION_DAYS), one from today.
    for (const [name, days] of [
      ['old.pdf', 10],
      ['new.pdf', 0],
    ] as const) {
      const key = `attachments/${mixed}/${name}`;
      await storage.put(key, Buffer.from(name));
      await db.query(
        `INSERT INTO attachments (conversation_id, uploader_id, storage_key, filename, mime, size_bytes, created_at)
         VALUES ($1, $2, $3, $4, 'application/pdf', 7, now() - make_interval(days => $5::int))`,
        [mixed, employee.id, key, name, days],
      );
    }

    const period = Math.floor(Date.now() / 86_400_000) + 1_000_000; // a period of its own, not today's scheduled one
    await app.services.jobs.enqueue('retention', { period });
    await until(
      async () => (await app.services.jobs.state('retention', `retention-${period}`)) === 'completed' || undefined,
      'retention job',
      20_000,
    );

    const bodies = (
      await db.query<{ body: string }>(
        'SELECT body FROM messages WHERE conversation_id = ANY($1::uuid[]) ORDER BY id',
        [[old, mixed]],
      )
    ).rows.map((r) => r.body);
    expect(bodies).toEqual(['fresh']);
    expect((await db.query('SELECT 1 FROM conversations WHERE id = $1', [old])).rows.length).toBe(0);
    expect((await db.query('SELECT 1 FROM conversations WHERE id = $1', [mixed])).rows.length).toBe(1);
    const files = (
      await db.query<{ filename: string }>('SELECT filename FROM attachments WHERE conversation_id = $1', [mixed])
    ).rows.map((r) => r.filename);
    expect(files).toEqual(['new.pdf']);
    const root = path.join(app.services.config.dataDir, 'files', 'attachments', mixed);
    expect(existsSync(path.join(root, 'old.pdf'))).toBe(false);
    expect(existsSync(path.join(root, 'new.pdf'))).toBe(true);

    const { rows: audit } = await db.query<{ action: string; details: Record<string, unknown> }>(
      `SELECT action, details FROM audit_log WHERE action LIKE 'retention.%' ORDER BY id`,
    );
    expect(audit).toEqual([
      {
        action: 'retention.messages_deleted',
        details: expect.objectContaining({ messages: 3, conversations: 1, retentionDays: 30 }),
      },
      { action: 'retention.files_deleted', details: expect.objectContaining({ attachments: 1, retentionDays: 7 }) },
    ]);
    expect((await verifyAuditChain(db)).ok).toBe(true);

    // Nothing left to do: a second run deletes nothing and records nothing.
    await app.services.jobs.enqueue('retention', { period: period + 1 });
    await until(
      async () => (await app.services.jobs.state('retention', `retention-${period + 1}`)) === 'completed' || undefined,
      'second retention job',
      20_000,
    );
    expect((await db.query(`SELECT 1 FROM audit_log WHERE action LIKE 'retention.%'`)).rows.length).toBe(2);
  }, 60_000);
});
