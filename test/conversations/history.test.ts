import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import type { TestUser } from '../support/fixtures.ts';
import { sleep } from '../support/wait.ts';
import { connectSocket } from '../support/ws-client.ts';
import { apiOf, expectError, expectStatus, messageIds, quickUser, say, settle, type Api } from './helpers.ts';

describe.each(backends)('history, unread counts and people-to-people chats on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend);
    api = apiOf(app);
    [alice, bob, carol] = await Promise.all([
      quickUser(app, { name: 'Alice' }),
      quickUser(app, { name: 'Bob' }),
      quickUser(app, { name: 'Carol' }),
    ]);
  });
  afterAll(() => app?.close());

  const direct = async (from: TestUser, to: TestUser) =>
    (await api.post(from.token, '/api/conversations', { kind: 'direct', userId: to.id })).body.conversation
      .id as string;

  it('pages history both ways with before/after/limit, oldest first, ids strictly increasing', async () => {
    const id = await direct(alice, bob);
    const ids: number[] = [];
    for (let i = 0; i < 25; i += 1) ids.push((await say(api, i % 2 ? bob : alice, id, `m${i}`)).id);
    const page = async (query: string) => {
      const res = await api.get(alice.token, `/api/conversations/${id}/messages?${query}`);
      expectStatus(res, 200);
      const got = (res.body.items as { id: number }[]).map((m) => m.id);
      for (let i = 1; i < got.length; i += 1) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
      return got;
    };
    expect(await page('')).toEqual(ids); // default limit 50: everything, oldest first
    expect(
      (await api.get(alice.token, `/api/conversations/${id}/messages?limit=3`)).body.items.map(
        (m: { body: string }) => m.body,
      ),
    ).toEqual(['m22', 'm23', 'm24']);

    // Backwards from the newest, the way a chat window scrolls up.
    const newest = await page('limit=10');
    expect(newest).toEqual(ids.slice(15));
    const older = await page(`before=${newest[0]}&limit=10`);
    expect(older).toEqual(ids.slice(5, 15));
    expect(await page(`before=${older[0]}&limit=10`)).toEqual(ids.slice(0, 5));
    expect(await page(`before=${ids[0]}&limit=10`)).toEqual([]);

    // Forwards from a point, the way a client catches up.
    const first = await page('after=0&limit=10');
    expect(first).toEqual(ids.slice(0, 10));
    const next = await page(`after=${first.at(-1)}&limit=10`);
    expect(next).toEqual(ids.slice(10, 20));
    expect(await page(`after=${next.at(-1)}&limit=10`)).toEqual(ids.slice(20));
    expect(await page(`after=${ids.at(-1)}`)).toEqual([]);

    // A window between two ids.
    expect(await page(`after=${ids[4]}&before=${ids[10]}`)).toEqual(ids.slice(5, 10));
    expect(await page(`after=${ids[4]}&before=${ids[20]}&limit=3`)).toEqual(ids.slice(17, 20));

    for (const bad of ['limit=0', 'limit=201', 'before=abc', 'after=-1']) {
      expectError(await api.get(alice.token, `/api/conversations/${id}/messages?${bad}`), 400);
    }
  });

  it('counts unread messages per conversation, clears them on read (HTTP or socket), and lists by last activity', async () => {
    const dave = await quickUser(app);
    const withBob = await direct(dave, bob);
    const withCarol = await direct(dave, carol);
    const group = (
      await api.post(dave.token, '/api/conversations', { kind: 'group', title: 'Lunch', memberIds: [bob.id, carol.id] })
    ).body.conversation.id;
    const list = async () => {
      const items = (await api.get(dave.token, '/api/conversations')).body.items as {
        id: string;
        unreadCount: number;
      }[];
      return items.filter((c) => [withBob, withCarol, group].includes(c.id));
    };
    let lastFromBob = 0;
    for (let i = 0; i < 3; i += 1) lastFromBob = (await say(api, bob, withBob, `bob ${i}`)).id;
    await sleep(5);
    await say(api, carol, withCarol, 'carol 1');
    const lastFromCarol = (await say(api, carol, withCarol, 'carol 2')).id;
    await sleep(5);
    await say(api, dave, group, 'my own message is never unread');
    await say(api, bob, group, 'see you at noon');

    expect((await list()).map((c) => [c.id, c.unreadCount])).toEqual([
      [group, 1],
      [withCarol, 2],
      [withBob, 3],
    ]);
    // New activity moves a conversation to the top.
    await sleep(5);
    lastFromBob = (await say(api, bob, withBob, 'bob again')).id;
    expect((await list()).map((c) => [c.id, c.unreadCount])).toEqual([
      [withBob, 4],
      [group, 1],
      [withCarol, 2],
    ]);

    // Reading over HTTP; Bob sees the receipt live.
    const bobSocket = await connectSocket(app.url, bob.token);
    expectStatus(await api.post(dave.token, `/api/conversations/${withBob}/read`, { messageId: lastFromBob }), 204);
    await bobSocket.waitFor(
      (f) => f.type === 'read' && f.conversationId === withBob && f.userId === dave.id && f.messageId === lastFromBob,
    );
    // Reading over the socket; Carol sees the receipt.
    const [daveSocket, carolSocket] = await Promise.all([
      connectSocket(app.url, dave.token),
      connectSocket(app.url, carol.token),
    ]);
    daveSocket.send({ type: 'read', conversationId: withCarol, messageId: lastFromCarol });
    await carolSocket.waitFor((f) => f.type === 'read' && f.conversationId === withCarol && f.userId === dave.id);
    const after = await list();
    expect(after.map((c) => [c.id, c.unreadCount])).toEqual([
      [withBob, 0],
      [group, 1],
      [withCarol, 0],
    ]);
    expect(after[0]).toMatchObject({ lastReadMessageId: lastFromBob });
    // Read marks only move forward.
    expectStatus(await api.post(dave.token, `/api/conversations/${withBob}/read`, { messageId: 1 }), 204);
    expect((await list())[0]).toMatchObject({ id: withBob, unreadCount: 0, lastReadMessageId: lastFromBob });
    await Promise.all([bobSocket.close(), daveSocket.close(), carolSocket.close()]);
  });

  it('pages the conversation list by last activity with a cursor', async () => {
    const erin = await quickUser(app);
    const people = await Promise.all(Array.from({ length: 5 }, () => quickUser(app)));
    const ids: string[] = [];
    for (const p of people) {
      const id = await direct(erin, p);
      await say(api, p, id, 'hello');
      ids.push(id);
      await sleep(3);
    }
    const first = await api.get(erin.token, '/api/conversations?limit=2');
    const second = await api.get(erin.token, `/api/conversations?limit=2&cursor=${first.body.next}`);
    const third = await api.get(erin.token, `/api/conversations?limit=2&cursor=${second.body.next}`);
    expect([...first.body.items, ...second.body.items, ...third.body.items].map((c: { id: string }) => c.id)).toEqual(
      [...ids].reverse(),
    );
    expect(third.body.next).toBeNull();
    expectError(await api.get(erin.token, '/api/conversations?cursor=garbage'), 400);
  });

  it('keeps one direct chat per pair: asking again, from either side or twice at once, returns the same one', async () => {
    const [frank, grace] = await Promise.all([quickUser(app), quickUser(app)]);
    const created = await api.post(frank.token, '/api/conversations', { kind: 'direct', userId: grace.id });
    expectStatus(created, 201);
    expect(created.body.conversation).toMatchObject({ kind: 'direct', status: null });
    expect(created.body.conversation.members.map((m: { id: string }) => m.id).sort()).toEqual(
      [frank.id, grace.id].sort(),
    );
    const again = await api.post(frank.token, '/api/conversations', { kind: 'direct', userId: grace.id });
    expectStatus(again, 200);
    expect(again.body.conversation.id).toBe(created.body.conversation.id);
    const reverse = await api.post(grace.token, '/api/conversations', { kind: 'direct', userId: frank.id });
    expectStatus(reverse, 200);
    expect(reverse.body.conversation.id).toBe(created.body.conversation.id);

    // A double click (or both people at once) must not make two chats.
    const [heidi, ivan] = await Promise.all([quickUser(app), quickUser(app)]);
    const burst = await Promise.all([
      ...Array.from({ length: 3 }, () =>
        api.post(heidi.token, '/api/conversations', { kind: 'direct', userId: ivan.id }),
      ),
      ...Array.from({ length: 3 }, () =>
        api.post(ivan.token, '/api/conversations', { kind: 'direct', userId: heidi.id }),
      ),
    ]);
    expect(new Set(burst.map((r) => r.body.conversation.id)).size).toBe(1);
    expect(burst.filter((r) => r.status === 201)).toHaveLength(1);
    expect(burst.filter((r) => r.status === 200)).toHaveLength(5);

    expectError(await api.post(frank.token, '/api/conversations', { kind: 'direct', userId: frank.id }), 400);
    expectError(
      await api.post(frank.token, '/api/conversations', {
        kind: 'direct',
        userId: '00000000-0000-4000-8000-000000000000',
      }),
      400,
      'unknown_user',
    );
  });

  it('runs group chats: members and title, and members hear each other live while others hear nothing', async () => {
    const outsider = await quickUser(app);
    const created = await api.post(alice.token, '/api/conversations', {
      kind: 'group',
      title: 'Launch 🚀',
      memberIds: [bob.id, carol.id, bob.id],
    });
    expectStatus(created, 201);
    const group = created.body.conversation;
    expect(group).toMatchObject({ kind: 'group', title: 'Launch 🚀', status: null, createdBy: alice.id });
    expect(group.members.map((m: { id: string; role: string }) => [m.id, m.role])).toEqual([
      [alice.id, 'owner'],
      [bob.id, 'member'],
      [carol.id, 'member'],
    ]);
    const [aliceSocket, bobSocket, carolSocket, outsiderSocket] = await Promise.all([
      connectSocket(app.url, alice.token),
      connectSocket(app.url, bob.token),
      connectSocket(app.url, carol.token),
      connectSocket(app.url, outsider.token),
    ]);
    const fromAlice = await say(api, alice, group.id, 'kick-off at 10');
    const fromCarol = await say(api, carol, group.id, 'I will bring coffee');
    for (const socket of [aliceSocket, bobSocket, carolSocket]) {
      const got = await socket.waitForCount(
        (f) => f.type === 'message.created' && f.message.conversationId === group.id,
        2,
      );
      expect(got.map((f) => [f.message.id, f.message.senderId, f.message.senderName])).toEqual([
        [fromAlice.id, alice.id, 'Alice'],
        [fromCarol.id, carol.id, 'Carol'],
      ]);
    }
    await settle();
    expect(messageIds(outsiderSocket.frames)).toEqual([]);
    expectError(await api.get(outsider.token, `/api/conversations/${group.id}`), 404);
    const view = await api.get(bob.token, `/api/conversations/${group.id}`);
    expect(view.body.conversation).toMatchObject({ title: 'Launch 🚀', kind: 'group' });
    expectError(
      await api.post(alice.token, '/api/conversations', {
        kind: 'group',
        title: 'x',
        memberIds: ['00000000-0000-4000-8000-000000000000'],
      }),
      400,
      'unknown_user',
    );
    await Promise.all([aliceSocket, bobSocket, carolSocket, outsiderSocket].map((s) => s.close()));
  });
});
