import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appendAudit, pruneAudit, recordAudit } from '../../server/src/core/audit/audit.service.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newUser, TEST_PASSWORD, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { sleep } from '../support/wait.ts';
import { freshIp, login, sql, suffix } from './helpers.ts';

interface AuditItem {
  id: number;
  at: string;
  actor: { id: string; email: string } | null;
  action: string;
  target: { type: string; id: string } | null;
  ip: string | null;
  details: Record<string, unknown>;
  hash: string;
}

const STRONG = 'a long and unusual passphrase 42';

describe.each(backends)('audit trail, tamper evidence and retention on %s', (backend) => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    admin = await newUser(app, { role: 'admin' });
  });
  afterAll(() => app?.close());

  const audit = async (query = ''): Promise<{ items: AuditItem[]; next: string | null }> => {
    const res = await request(app.url, 'GET', `/api/admin/audit${query}`, { token: admin.token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const verify = async () => (await request(app.url, 'GET', '/api/admin/audit/verify', { token: admin.token })).body;

  it('records sign-ins, tokens, people and groups changes with who, what, whom and from where', async () => {
    const user = await newUser(app);
    const ip = freshIp();
    expect((await login(app, user.email, 'not my password at all', { ip })).status).toBe(401);
    expect((await login(app, `nobody-${suffix()}@example.test`, 'whatever it is', { ip })).status).toBe(401);
    const session = await login(app, user.email, TEST_PASSWORD, { ip });
    const token = (await request(app.url, 'POST', '/api/tokens', { token: user.token, body: { name: 'audited' } }))
      .body;
    await request(app.url, 'DELETE', `/api/tokens/${token.apiToken.id}`, { token: user.token });
    const created = (
      await request(app.url, 'POST', '/api/users', {
        token: admin.token,
        body: { email: `audited-${suffix()}@example.test`, name: 'Audited', password: STRONG },
      })
    ).body.user;
    await request(app.url, 'PATCH', `/api/users/${created.id}`, { token: admin.token, body: { role: 'agent' } });
    await request(app.url, 'PATCH', `/api/users/${created.id}`, { token: admin.token, body: { disabled: true } });
    const group = (
      await request(app.url, 'POST', '/api/groups', { token: admin.token, body: { name: `Audited ${suffix()}` } })
    ).body.group;
    await request(app.url, 'PUT', `/api/groups/${group.id}/members/${user.id}`, { token: admin.token });

    const { items } = await audit('?limit=200');
    const find = (action: string, match: (i: AuditItem) => boolean = () => true) => {
      const found = items.find((i) => i.action === action && match(i));
      expect(found, `audit record ${action}`).toBeDefined();
      return found!;
    };
    const failed = find('auth.login.failed', (i) => i.actor?.id === user.id);
    expect(failed).toMatchObject({ ip, details: { email: user.email, reason: 'wrong_password' } });
    expect(find('auth.login.failed', (i) => i.actor === null && i.ip === ip).details.reason).toBe('unknown_email');
    expect(JSON.stringify(items)).not.toContain('not my password at all');
    const succeeded = find('auth.login.succeeded', (i) => i.actor?.id === user.id && i.ip === ip);
    expect(succeeded.target?.type).toBe('session');
    expect(session.status).toBe(200);
    expect(find('auth.token.created', (i) => i.target?.id === token.apiToken.id)).toMatchObject({
      actor: { id: user.id, email: user.email },
      details: { name: 'audited' },
    });
    expect(find('auth.token.revoked', (i) => i.target?.id === token.apiToken.id).actor?.id).toBe(user.id);
    expect(find('user.created', (i) => i.target?.id === created.id)).toMatchObject({
      actor: { id: admin.id },
      details: { email: created.email, role: 'employee' },
    });
    expect(find('user.role.changed', (i) => i.target?.id === created.id).details).toEqual({
      from: 'employee',
      to: 'agent',
    });
    expect(find('user.disabled', (i) => i.target?.id === created.id).actor?.id).toBe(admin.id);
    expect(find('group.created', (i) => i.target?.id === group.id).details).toEqual({ name: group.name });
    expect(find('group.member.added', (i) => i.target?.id === group.id).details).toEqual({ userId: user.id });
    // Every record carries its hash; newest first.
    expect(items.every((i) => /^[0-9a-f]{64}$/.test(i.hash))).toBe(true);
    expect(items.map((i) => i.id)).toEqual([...items.map((i) => i.id)].sort((a, b) => b - a));
  });

  it('filters by action prefix, actor and time, and pages newest first', async () => {
    const user = await newUser(app);
    for (let i = 0; i < 3; i += 1) await login(app, user.email, `wrong password ${i}!`, { ip: freshIp() });

    const logins = await audit('?action=auth.login&limit=200');
    expect(logins.items.length).toBeGreaterThan(3);
    expect(logins.items.every((i) => i.action.startsWith('auth.login'))).toBe(true);
    expect(new Set(logins.items.map((i) => i.action))).toEqual(new Set(['auth.login.failed', 'auth.login.succeeded']));
    const failures = await audit('?action=auth.login.failed&limit=200');
    expect(failures.items.every((i) => i.action === 'auth.login.failed')).toBe(true);
    // A LIKE wildcard in the filter is taken literally.
    expect((await audit('?action=auth.%25')).items).toEqual([]);

    const byActor = await audit(`?actorId=${user.id}&limit=200`);
    expect(byActor.items.length).toBe(4); // the fixture's sign-in and three failures
    expect(byActor.items.every((i) => i.actor?.id === user.id)).toBe(true);

    await sleep(20);
    const from = new Date();
    await sleep(20);
    const group = (
      await request(app.url, 'POST', '/api/groups', { token: admin.token, body: { name: `Window ${suffix()}` } })
    ).body.group;
    await sleep(20);
    const to = new Date();
    await sleep(20);
    await request(app.url, 'POST', '/api/groups', { token: admin.token, body: { name: `After ${suffix()}` } });
    const windowed = await audit(`?from=${from.toISOString()}&to=${to.toISOString()}`);
    expect(windowed.items.map((i) => [i.action, i.target?.id])).toEqual([['group.created', group.id]]);

    // Paging: newest first, no gaps or repeats, ending with next = null.
    const everything = (await audit('?limit=200')).items.map((i) => i.id);
    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await audit(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      paged.push(...page.items.map((i) => i.id));
      cursor = page.next;
    } while (cursor && paged.length < 500);
    expect(paged).toEqual(everything);
    const filteredPages: number[] = [];
    cursor = null;
    do {
      const page = await audit(`?action=auth.login&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      filteredPages.push(...page.items.map((i) => i.id));
      cursor = page.next;
    } while (cursor && filteredPages.length < 500);
    expect(filteredPages).toEqual(logins.items.map((i) => i.id));
  });

  it('reads as names: who did it, what it was done to (even after deletion), the actions to filter by, and a CSV export', async () => {
    const name = `Formula ${suffix()}`;
    const group = await request(app.url, 'POST', '/api/groups', { token: admin.token, body: { name } });
    const evil = `=HYPERLINK("http://evil.example","${suffix()}")`;
    const doomed = await request(app.url, 'POST', '/api/groups', { token: admin.token, body: { name: evil } });
    await request(app.url, 'DELETE', `/api/groups/${doomed.body.group.id}`, { token: admin.token });

    const items = (await audit(`?actorId=${admin.id}&action=group.&limit=200`)).items as (AuditItem & {
      actor: { name: string | null };
      target: { label: string | null };
    })[];
    const created = items.find((i) => i.action === 'group.created' && i.target?.id === group.body.group.id);
    expect(created?.actor).toMatchObject({ id: admin.id, email: admin.email, name: expect.any(String) });
    expect(created?.target).toMatchObject({ type: 'group', label: name });
    const deleted = items.find((i) => i.action === 'group.deleted' && i.target?.id === doomed.body.group.id);
    expect(deleted?.target?.label, 'a deleted group keeps its name').toBe(evil);

    const actions = await request(app.url, 'GET', '/api/admin/audit/actions', { token: admin.token });
    expect(actions.body.items).toEqual(expect.arrayContaining(['group.created', 'group.deleted']));
    expect([...actions.body.items].sort()).toEqual(actions.body.items);

    const res = await fetch(`${app.url}/api/admin/audit/export?actorId=${admin.id}&action=group.`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="?enclave-audit-\d{4}-\d{2}-\d{2}\.csv"?/,
    );
    const csv = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
    expect(csv.startsWith('\ufeffid,at,actor_name,actor_email,action,')).toBe(true);
    const lines = csv.trim().split('\r\n');
    expect(lines).toHaveLength(1 + items.length);
    // A spreadsheet must not run a name as a formula: the cell starts with an apostrophe, quotes doubled.
    expect(csv).toContain(`"'${evil.replace(/"/g, '""')}"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    // Reading the trail out is on the trail.
    const exported = (await audit('?action=audit.exported&limit=5')).items[0];
    expect(exported).toMatchObject({ actor: { id: admin.id }, details: { actorId: admin.id, action: 'group.' } });
  });

  it('verifies its chain, and refuses plain edits, deletes and truncation', async () => {
    expect(await verify()).toEqual({ ok: true, rows: expect.any(Number) });
    const [{ id }] = (await sql<{ id: number }>(app, 'SELECT min(id)::int AS id FROM audit_log')) as [{ id: number }];
    await expect(sql(app, `UPDATE audit_log SET details = '{"x":1}' WHERE id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(sql(app, 'DELETE FROM audit_log WHERE id = $1', [id])).rejects.toThrow(/append-only/);
    await expect(app.services.db.exec('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect((await verify()).ok).toBe(true);
  });

  it('keeps the chain verifiable whatever text and values a record carries', async () => {
    // Text an attacker controls (a typed email) reaches the log: unpaired surrogates, NUL, odd values.
    await recordAudit(app.services.db, {
      action: 'test.odd-text',
      actor: { id: admin.id, email: `odd\u0000\ud800@example.test` },
      target: { type: 'probe', id: '\udc00' },
      ip: '10.0.0.1\u0000',
      details: {
        lone: 'a\ud800b',
        nul: 'x\u0000y',
        when: new Date(0),
        nested: [{ n: 1.5, big: 1e21, neg: -0, none: undefined }],
      },
    });
    expect(await verify()).toEqual({ ok: true, rows: expect.any(Number) });
    const res = await login(app, 'x\ud800@example.test', 'whatever it is', { ip: freshIp() });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await verify()).toEqual({ ok: true, rows: expect.any(Number) });
  });

  it('links writers that append at the same moment into one chain', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => recordAudit(app.services.db, { action: 'test.concurrent', details: { i } })),
    );
    const rows = await sql<{ prev_hash: string; hash: string }>(
      app,
      `SELECT prev_hash, hash FROM audit_log WHERE action = 'test.concurrent' ORDER BY id`,
    );
    expect(rows).toHaveLength(12);
    rows.slice(1).forEach((row, i) => expect(row.prev_hash).toBe(rows[i]!.hash));
    // A record is linked at commit: one added by a transaction that rolls back leaves nothing behind.
    const failing = app.services.db.transaction(async (tx) => {
      await appendAudit(tx, { action: 'test.rolled-back' });
      throw new Error('the audited change failed');
    });
    await expect(failing).rejects.toThrow(/audited change failed/);
    expect(
      await sql(app, `SELECT 1 FROM audit_log WHERE action = 'test.rolled-back' UNION ALL SELECT 1 FROM audit_pending`),
    ).toEqual([]);
    expect(await verify()).toEqual({ ok: true, rows: expect.any(Number) });
  });

  // These change the log behind the application's back, so they come last.
  const ids = async () => (await sql<{ id: number }>(app, 'SELECT id FROM audit_log ORDER BY id')).map((r) => r.id);
  const bypassingGuard = (statement: string) =>
    app.services.db.exec(
      `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; ${statement}; ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;`,
    );
  const makeRecords = async (n: number, tag: string) => {
    for (let i = 0; i < n; i += 1) {
      expect(
        (
          await request(app.url, 'POST', '/api/groups', {
            token: admin.token,
            body: { name: `${tag} ${i} ${suffix()}` },
          })
        ).status,
      ).toBe(201);
    }
  };

  it('prunes old records (retention) and records that it did, leaving a verifiable chain', async () => {
    await makeRecords(4, 'Old');
    await sleep(30);
    const cutoff = Date.now();
    await sleep(30);
    await makeRecords(3, 'New');
    const before = await ids();
    const old = (
      await sql<{ id: number }>(app, 'SELECT id FROM audit_log WHERE at < $1 ORDER BY id', [new Date(cutoff)])
    ).map((r) => r.id);
    expect(old.length).toBeGreaterThanOrEqual(5); // the admin's sign-in and the four groups

    // Retention counts days back from "now": hold the clock still so the cutoff lands exactly
    // between the old and the new records however slow this machine is.
    const now = Date.now();
    const prune = async () => {
      vi.useFakeTimers({ toFake: ['Date'], now });
      try {
        return await pruneAudit(app.services.db, (now - cutoff) / 86_400_000);
      } finally {
        vi.useRealTimers();
      }
    };
    const removed = await prune();
    expect(removed).toBe(old.length);
    const after = await ids();
    expect(after.slice(0, -1)).toEqual(before.filter((id) => !old.includes(id)));
    const [pruned] = await sql<{ action: string; details: Record<string, unknown>; actor_id: string | null }>(
      app,
      'SELECT action, details, actor_id FROM audit_log ORDER BY id DESC LIMIT 1',
    );
    expect(pruned).toMatchObject({ action: 'audit.pruned', actor_id: null, details: { removed: old.length } });
    expect(await verify()).toEqual({ ok: true, rows: after.length });
    // Nothing older left: a second run removes nothing and records nothing.
    expect(await prune()).toBe(0);
    expect(await ids()).toEqual(after);
  });

  it('detects a record edited behind the guard, at that record', async () => {
    await makeRecords(4, 'Edit');
    const all = await ids();
    const middle = all[Math.floor(all.length / 2)]!;
    const [original] = await sql<{ details: string }>(
      app,
      'SELECT details::text AS details FROM audit_log WHERE id = $1',
      [middle],
    );
    await bypassingGuard(`UPDATE audit_log SET details = '{"x":1}' WHERE id = ${middle}`);
    expect(await verify()).toEqual({
      ok: false,
      rows: expect.any(Number),
      brokenAtId: middle,
      reason: expect.stringMatching(/edited/),
    });
    // Putting it back makes the chain whole again.
    await bypassingGuard(
      `UPDATE audit_log SET details = '${original!.details.replace(/'/g, "''")}'::jsonb WHERE id = ${middle}`,
    );
    expect((await verify()).ok).toBe(true);

    // Forging the row's own hash too only moves the break to the next record.
    await bypassingGuard(
      `UPDATE audit_log SET actor_email = 'someone-else@example.test', hash = repeat('a', 64) WHERE id = ${middle}`,
    );
    const forged = await verify();
    expect(forged.ok).toBe(false);
    expect([middle, all[all.indexOf(middle) + 1]]).toContain(forged.brokenAtId);
  });

  it('detects a record deleted from the middle', async () => {
    // A fresh, whole chain for this test.
    await bypassingGuard('DELETE FROM audit_log');
    await makeRecords(5, 'Delete');
    expect((await verify()).ok).toBe(true);
    const all = await ids();
    const victim = all[2]!;
    await bypassingGuard(`DELETE FROM audit_log WHERE id = ${victim}`);
    expect(await verify()).toEqual({
      ok: false,
      rows: expect.any(Number),
      brokenAtId: all[3],
      reason: expect.stringMatching(/removed/),
    });
  });
});
