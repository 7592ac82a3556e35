import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newBot, type TestUser } from '../support/fixtures.ts';
import { connectSocket } from '../support/ws-client.ts';
import {
  apiOf,
  expectError,
  expectStatus,
  framesAbout,
  messageIds,
  quickUser,
  say,
  settle,
  type Api,
} from './helpers.ts';

describe.each(backends)('who may see and change what on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let employee: TestUser;
  let colleague: TestUser;
  let outsider: TestUser;
  let agent: TestUser;
  let admin: TestUser;
  let botId: string;

  beforeAll(async () => {
    app = await startTestApp(backend);
    api = apiOf(app);
    [employee, colleague, outsider, agent, admin] = await Promise.all([
      quickUser(app, { name: 'Employee' }),
      quickUser(app, { name: 'Colleague' }),
      quickUser(app, { name: 'Outsider' }),
      quickUser(app, { role: 'agent', name: 'Agent' }),
      quickUser(app, { role: 'admin', name: 'Admin' }),
    ]);
    botId = await newBot(app);
  });
  afterAll(() => app?.close());

  it('answers a non-member with 404 for the conversation, its messages, posting, reading and handoff — and tells their socket nothing', async () => {
    const outsiderSocket = await connectSocket(app.url, outsider.token);
    const colleagueSocket = await connectSocket(app.url, colleague.token);
    const withBot = (await api.post(employee.token, '/api/conversations', { botId })).body.conversation.id;
    const direct = (await api.post(employee.token, '/api/conversations', { kind: 'direct', userId: colleague.id })).body
      .conversation.id;
    const group = (
      await api.post(employee.token, '/api/conversations', { kind: 'group', title: 'Team', memberIds: [colleague.id] })
    ).body.conversation.id;
    const support = (await api.post(employee.token, '/api/conversations', { kind: 'support' })).body.conversation.id;
    const ids = [withBot, direct, group, support];

    const posted = await Promise.all(ids.map((id) => say(api, employee, id, 'private words')));
    await colleagueSocket.waitFor((f) => f.type === 'message.created' && f.message.conversationId === group);
    colleagueSocket.send({ type: 'typing', conversationId: direct });
    for (const id of ids) {
      expectError(await api.get(outsider.token, `/api/conversations/${id}`), 404, 'not_found');
      expectError(await api.get(outsider.token, `/api/conversations/${id}/messages`), 404, 'not_found');
      expectError(
        await api.post(outsider.token, `/api/conversations/${id}/messages`, { body: 'let me in' }),
        404,
        'not_found',
      );
      expectError(await api.post(outsider.token, `/api/conversations/${id}/handoff`), 404, 'not_found');
      expectError(
        await api.post(outsider.token, `/api/conversations/${id}/read`, { messageId: posted[0]!.id }),
        404,
        'not_found',
      );
    }
    // An unknown id looks exactly the same.
    expectError(
      await api.get(outsider.token, '/api/conversations/00000000-0000-4000-8000-000000000000/messages'),
      404,
      'not_found',
    );
    const listed = await api.get(outsider.token, '/api/conversations');
    expect(listed.body.items.filter((c: { id: string }) => ids.includes(c.id))).toEqual([]);

    await settle(300);
    for (const id of ids) expect(framesAbout(outsiderSocket, id)).toEqual([]);
    const { rows } = await app.services.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE body = 'let me in'`,
    );
    expect(rows[0]!.n).toBe(0);
    await Promise.all([outsiderSocket.close(), colleagueSocket.close()]);
  });

  it('answers typing and read frames from a non-member with an error frame, and passes them to nobody', async () => {
    const direct = (await api.post(employee.token, '/api/conversations', { kind: 'direct', userId: colleague.id })).body
      .conversation.id;
    const message = await say(api, employee, direct, 'hi');
    const [intruder, employeeSocket, colleagueSocket] = await Promise.all([
      connectSocket(app.url, outsider.token),
      connectSocket(app.url, employee.token),
      connectSocket(app.url, colleague.token),
    ]);
    intruder.send({ type: 'typing', conversationId: direct });
    intruder.send({ type: 'read', conversationId: direct, messageId: message.id });
    const errors = await intruder.waitForCount((f) => f.type === 'error', 2);
    expect(errors.map((e) => e.code)).toEqual(['not_found', 'not_found']);

    // A member's typing does reach the other member (and not the typist).
    colleagueSocket.send({ type: 'typing', conversationId: direct });
    await employeeSocket.waitFor((f) => f.type === 'typing' && f.userId === colleague.id);
    await settle();
    for (const socket of [employeeSocket, colleagueSocket]) {
      expect(
        socket.frames.filter((f) => (f.type === 'typing' || f.type === 'read') && f.userId === outsider.id),
      ).toEqual([]);
    }
    expect(colleagueSocket.frames.filter((f) => f.type === 'typing')).toEqual([]);
    expect(framesAbout(intruder, direct).filter((f) => f.type !== 'error')).toEqual([]);
    await Promise.all([intruder.close(), employeeSocket.close(), colleagueSocket.close()]);
  });

  it('tells the employee nothing while an agent types an internal note: typing marked internal reaches the staff only', async () => {
    const id = (await api.post(employee.token, '/api/conversations', { kind: 'support' })).body.conversation.id;
    expectStatus(await api.post(agent.token, `/api/conversations/${id}/claim`), 200);
    const [employeeSocket, agentSocket] = await Promise.all([
      connectSocket(app.url, employee.token),
      connectSocket(app.url, agent.token),
    ]);
    agentSocket.send({ type: 'typing', conversationId: id, internal: true });
    // The employee's own typing still reaches the agent: the socket is live, the note's typing is what is held back.
    employeeSocket.send({ type: 'typing', conversationId: id });
    await agentSocket.waitFor((f) => f.type === 'typing' && f.userId === employee.id);
    await settle();
    expect(employeeSocket.frames.filter((f) => f.type === 'typing')).toEqual([]);

    // Typing a reply is shown to the employee, as before.
    agentSocket.send({ type: 'typing', conversationId: id });
    await employeeSocket.waitFor((f) => f.type === 'typing' && f.userId === agent.id);
    await Promise.all([employeeSocket.close(), agentSocket.close()]);
  });

  it('keeps internal notes from employees — history, socket, resume and unread counts — while agents and admins see them', async () => {
    const id = (await api.post(employee.token, '/api/conversations', { kind: 'support' })).body.conversation.id;
    expectStatus(await api.post(agent.token, `/api/conversations/${id}/claim`), 200);
    const [employeeSocket, agentSocket] = await Promise.all([
      connectSocket(app.url, employee.token),
      connectSocket(app.url, agent.token),
    ]);

    expectError(
      await api.post(employee.token, `/api/conversations/${id}/messages`, { body: 'me too', internal: true }),
      403,
      'forbidden',
    );
    const note = await say(api, agent, id, 'NOTE: VIP customer, check contract', { internal: true });
    const reply = await say(api, agent, id, 'Hello! Looking into it.');
    // An admin who is not a member may add a note too.
    const adminNote = await say(api, admin, id, 'NOTE: escalate if needed', { internal: true });
    await employeeSocket.waitFor((f) => f.type === 'message.created' && f.message.id === reply.id);
    await agentSocket.waitForCount(
      (f) => f.type === 'message.created' && [note.id, reply.id, adminNote.id].includes(f.message.id),
      3,
    );
    await settle();
    expect(messageIds(employeeSocket.frames)).toEqual([reply.id]);
    expect(JSON.stringify(employeeSocket.frames)).not.toContain('NOTE:');

    const bodies = async (user: TestUser) =>
      ((await api.get(user.token, `/api/conversations/${id}/messages`)).body.items as { body: string }[]).map(
        (m) => m.body,
      );
    expect((await bodies(employee)).some((b) => b.startsWith('NOTE:'))).toBe(false);
    expect(await bodies(agent)).toEqual(expect.arrayContaining([note.body, adminNote.body, reply.body]));
    expect(await bodies(admin)).toEqual(expect.arrayContaining([note.body, adminNote.body]));
    // Nor can an employee reach a note by its id.
    expectError(await api.patch(employee.token, `/api/messages/${note.id}`, { body: 'x' }), 404);

    // Away and back: the replay skips notes as well.
    const lastSeen = reply.id;
    await employeeSocket.close();
    const secondNote = await say(api, agent, id, 'NOTE: refund approved', { internal: true });
    const secondReply = await say(api, agent, id, 'Your refund is approved.');
    const again = await connectSocket(app.url, employee.token);
    again.send({ type: 'resume', after: lastSeen });
    await again.waitFor((f) => f.type === 'resume.done');
    expect(messageIds(again.frames)).toEqual([secondReply.id]);
    const agentAgain = await connectSocket(app.url, agent.token);
    agentAgain.send({ type: 'resume', after: lastSeen });
    await agentAgain.waitFor((f) => f.type === 'resume.done');
    expect(messageIds(agentAgain.frames)).toEqual(expect.arrayContaining([secondNote.id, secondReply.id]));

    // Unread counts: the employee has two unseen replies, no notes.
    const mine = (await api.get(employee.token, '/api/conversations')).body.items.find(
      (c: { id: string }) => c.id === id,
    );
    expect(mine.unreadCount).toBe(2);
    await Promise.all([again.close(), agentSocket.close(), agentAgain.close()]);
  });

  it('lets authors edit their messages: body replaced, editedAt set, message.updated sent, old body kept, audited; others get 403', async () => {
    const direct = (await api.post(employee.token, '/api/conversations', { kind: 'direct', userId: colleague.id })).body
      .conversation.id;
    const message = await say(api, employee, direct, 'Meet at 3pm');
    const colleagueSocket = await connectSocket(app.url, colleague.token);

    const edited = await api.patch(employee.token, `/api/messages/${message.id}`, { body: 'Meet at 4pm' });
    expectStatus(edited, 200);
    expect(edited.body.message).toMatchObject({
      id: message.id,
      body: 'Meet at 4pm',
      editedAt: expect.any(String),
      deletedAt: null,
    });
    const update = await colleagueSocket.waitFor((f) => f.type === 'message.updated' && f.message.id === message.id);
    expect(update.message.body).toBe('Meet at 4pm');
    const history = (await api.get(colleague.token, `/api/conversations/${direct}/messages`)).body.items;
    expect(history.find((m: { id: number }) => m.id === message.id)).toMatchObject({
      body: 'Meet at 4pm',
      editedAt: expect.any(String),
    });

    expectError(
      await api.patch(colleague.token, `/api/messages/${message.id}`, { body: 'Meet never' }),
      403,
      'forbidden',
    );
    expectError(
      await api.patch(admin.token, `/api/messages/${message.id}`, { body: 'admins do not rewrite people' }),
      403,
      'forbidden',
    );
    expectError(await api.patch(outsider.token, `/api/messages/${message.id}`, { body: 'x' }), 404);
    expectError(await api.patch(employee.token, '/api/messages/999999999', { body: 'x' }), 404);

    const revisions = await app.services.db.query<{ action: string; previous_body: string; editor_id: string }>(
      'SELECT action, previous_body, editor_id FROM message_revisions WHERE message_id = $1 ORDER BY id',
      [message.id],
    );
    expect(revisions.rows).toEqual([{ action: 'edit', previous_body: 'Meet at 3pm', editor_id: employee.id }]);
    const audit = await app.services.db.query<{ action: string; actor_id: string; target_id: string }>(
      `SELECT action, actor_id, target_id FROM audit_log WHERE action LIKE 'message.%' AND target_id = $1`,
      [String(message.id)],
    );
    expect(audit.rows).toEqual([{ action: 'message.edited', actor_id: employee.id, target_id: String(message.id) }]);
    await colleagueSocket.close();
  });

  it("soft-deletes: the body goes, a revision and an audit record stay; admins may delete others' messages", async () => {
    const direct = (await api.post(employee.token, '/api/conversations', { kind: 'direct', userId: colleague.id })).body
      .conversation.id;
    const mine = await say(api, employee, direct, 'oops, wrong chat');
    const theirs = await say(api, colleague, direct, 'something inappropriate');
    const colleagueSocket = await connectSocket(app.url, colleague.token);

    expectError(await api.del(colleague.token, `/api/messages/${mine.id}`), 403, 'forbidden');
    expectStatus(await api.del(employee.token, `/api/messages/${mine.id}`), 204);
    const update = await colleagueSocket.waitFor((f) => f.type === 'message.updated' && f.message.id === mine.id);
    expect(update.message).toMatchObject({ body: '', deletedAt: expect.any(String) });
    expectStatus(await api.del(admin.token, `/api/messages/${theirs.id}`), 204);

    const history = (await api.get(employee.token, `/api/conversations/${direct}/messages`)).body.items as {
      id: number;
      body: string;
      deletedAt: string | null;
    }[];
    for (const id of [mine.id, theirs.id])
      expect(history.find((m) => m.id === id)).toMatchObject({ body: '', deletedAt: expect.any(String) });
    // Gone is gone: no edits or second deletes.
    expectError(await api.patch(employee.token, `/api/messages/${mine.id}`, { body: 'back' }), 409);
    expectError(await api.del(employee.token, `/api/messages/${mine.id}`), 409);

    const revisions = await app.services.db.query<{
      message_id: number;
      action: string;
      previous_body: string;
      editor_id: string;
    }>(
      'SELECT message_id, action, previous_body, editor_id FROM message_revisions WHERE message_id = ANY($1::bigint[]) ORDER BY id',
      [[mine.id, theirs.id]],
    );
    expect(revisions.rows).toEqual([
      { message_id: mine.id, action: 'delete', previous_body: 'oops, wrong chat', editor_id: employee.id },
      { message_id: theirs.id, action: 'delete', previous_body: 'something inappropriate', editor_id: admin.id },
    ]);
    const audit = await app.services.db.query<{ action: string; actor_id: string; target_id: string }>(
      `SELECT action, actor_id, target_id FROM audit_log WHERE action = 'message.deleted' AND target_id = ANY($1::text[]) ORDER BY id`,
      [[String(mine.id), String(theirs.id)]],
    );
    expect(audit.rows).toEqual([
      { action: 'message.deleted', actor_id: employee.id, target_id: String(mine.id) },
      { action: 'message.deleted', actor_id: admin.id, target_id: String(theirs.id) },
    ]);
    // A deleted message is no longer unread.
    const listed = (await api.get(employee.token, '/api/conversations')).body.items.find(
      (c: { id: string }) => c.id === direct,
    );
    expect(listed.unreadCount).toBe(0);
    await colleagueSocket.close();
  });
});
