import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newBot, newUser, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';

// A 1×1 PNG.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

async function upload(
  app: TestApp,
  user: TestUser,
  conversationId: string,
  bytes: Buffer,
  filename: string,
  type = 'application/octet-stream',
) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), filename);
  const res = await fetch(`${app.url}/api/conversations/${conversationId}/attachments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}` },
    body: form,
  });
  return {
    status: res.status,
    body: (await res.json()) as { attachment?: { id: string; mime: string; size: number }; error?: { code: string } },
  };
}

describe.each(backends)('attachments and directories on %s', (backend) => {
  let app: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let outsider: TestUser;
  let agent: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    app = await startTestApp(backend, { env: { ATTACHMENT_MAX_MB: '1' } });
    [alice, bob, outsider, agent] = await Promise.all([
      newUser(app, { name: 'Alice Wang' }),
      newUser(app, { name: 'Bob Chen' }),
      newUser(app, { name: 'Zed Outsider' }),
      newUser(app, { role: 'agent', name: 'Agent Li' }),
    ]);
    const direct = await request(app.url, 'POST', '/api/conversations', {
      token: alice.token,
      body: { kind: 'direct', userId: bob.id },
    });
    conversationId = direct.body.conversation.id;
  });
  afterAll(() => app?.close());

  it('stores a file typed from its bytes, attaches it to a message and serves it only to members', async () => {
    const up = await upload(app, alice, conversationId, PNG, 'screenshot.txt', 'text/plain');
    expect(up.status).toBe(201);
    expect(up.body.attachment).toMatchObject({ mime: 'image/png', size: PNG.length });
    const id = up.body.attachment!.id;

    const sent = await request(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: alice.token,
      body: { body: '', attachmentIds: [id] },
    });
    expect(sent.status).toBe(201);
    expect(sent.body.message.attachments).toEqual([
      { id, filename: 'screenshot.txt', mime: 'image/png', size: PNG.length },
    ]);

    const forBob = await fetch(`${app.url}/api/attachments/${id}`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(forBob.status).toBe(200);
    expect(forBob.headers.get('content-type')).toBe('image/png');
    expect(forBob.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await forBob.arrayBuffer()).equals(PNG)).toBe(true);
    expect(
      (await fetch(`${app.url}/api/attachments/${id}`, { headers: { authorization: `Bearer ${outsider.token}` } }))
        .status,
    ).toBe(404);

    // Used once only, and only by its uploader.
    const again = await request(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: alice.token,
      body: { body: 'again', attachmentIds: [id] },
    });
    expect(again.status).toBe(400);
    const other = await upload(app, alice, conversationId, PNG, 'b.png');
    const stolen = await request(app.url, 'POST', `/api/conversations/${conversationId}/messages`, {
      token: bob.token,
      body: { body: 'mine?', attachmentIds: [other.body.attachment!.id] },
    });
    expect(stolen.body.error.code).toBe('invalid_attachment');
  });

  it('refuses unknown binary types (415), oversized files (413) and non-members (404), leaving nothing behind', async () => {
    const exe = await upload(
      app,
      alice,
      conversationId,
      Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0)]),
      'setup.exe',
    );
    expect(exe.status).toBe(415);
    const big = await upload(app, alice, conversationId, Buffer.alloc(2 * 1024 * 1024, 0x41), 'big.txt');
    expect(big.status).toBe(413);
    const intruder = await upload(app, outsider, conversationId, PNG, 'x.png');
    expect(intruder.status).toBe(404);
    const { rows } = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM attachments WHERE filename IN ('setup.exe', 'big.txt', 'x.png')`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("asks the bot nothing with a file sent without words, and answers a file's words", async () => {
    const botId = await newBot(app);
    const chat = await request(app.url, 'POST', '/api/conversations', { token: alice.token, body: { botId } });
    const id: string = chat.body.conversation.id;
    // An answer job's outbox row goes once the job has run (its answer written): none left, nothing pending.
    const answersPending = async (messageId: number) => {
      const { rows } = await app.services.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox WHERE job_name = 'answer' AND payload->>'messageId' = $1`,
        [String(messageId)],
      );
      return rows[0]!.n;
    };
    const botMessages = async () => {
      const page = await request(app.url, 'GET', `/api/conversations/${id}/messages`, { token: alice.token });
      return (page.body.items as { senderType: string }[]).filter((m) => m.senderType === 'bot').length;
    };
    const send = async (body: string) => {
      const up = await upload(app, alice, id, PNG, 'screen.png');
      const sent = await request(app.url, 'POST', `/api/conversations/${id}/messages`, {
        token: alice.token,
        body: { body, attachmentIds: [up.body.attachment!.id] },
      });
      expect(sent.status).toBe(201);
      return sent.body.message.id as number;
    };
    const fileOnly = await send('');
    await expect.poll(() => answersPending(fileOnly), { timeout: 20_000 }).toBe(0);
    expect(await botMessages()).toBe(0);
    await send('What does this error mean?');
    await expect.poll(botMessages, { timeout: 20_000 }).toBe(1);
  });

  it('lets anyone find colleagues to chat with, and agents find agents for transfers', async () => {
    const people = await request(app.url, 'GET', '/api/people?q=chen', { token: alice.token });
    expect(people.body.items).toEqual([{ id: bob.id, name: 'Bob Chen', email: bob.email }]);
    const all = await request(app.url, 'GET', '/api/people', { token: alice.token });
    expect(all.body.items.map((p: { id: string }) => p.id)).not.toContain(alice.id);
    const agents = await request(app.url, 'GET', '/api/agents', { token: agent.token });
    // A name and availability, nothing more about a colleague.
    expect(agents.body.items).toEqual(
      expect.arrayContaining([{ id: agent.id, name: expect.any(String), available: true }]),
    );
    for (const item of agents.body.items) expect(Object.keys(item).sort()).toEqual(['available', 'id', 'name']);
    expect((await request(app.url, 'GET', '/api/agents', { token: alice.token })).status).toBe(403);
  });
});
