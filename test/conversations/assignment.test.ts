import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newBot, type TestUser } from '../support/fixtures.ts';
import { apiOf, eventsOf, expectError, expectStatus, quickUser, resetQueue, say, type Api } from './helpers.ts';

describe.each(backends)('automatic assignment (ASSIGNMENT_MODE=auto) on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let employee: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend, { env: { ASSIGNMENT_MODE: 'auto' } });
    api = apiOf(app);
    [employee, admin] = await Promise.all([quickUser(app), quickUser(app, { role: 'admin' })]);
  });
  afterAll(() => app?.close());
  // Every test starts with an empty queue and nobody available but the agents it makes.
  beforeEach(() => resetQueue(app));

  const agent = (options: { skills?: string[]; capacity?: number; available?: boolean } = {}) =>
    quickUser(app, { role: 'agent', ...options });
  const setAvailable = async (who: TestUser, available: boolean) =>
    expectStatus(await api.patch(who.token, '/api/agents/me', { available }), 200);
  /** A new support conversation (optionally for a team) and whom it went to at once. */
  const support = async (team?: string) => {
    const res = await api.post(employee.token, '/api/conversations', { kind: 'support', ...(team ? { team } : {}) });
    expectStatus(res, 201);
    return res.body.conversation as { id: string; status: string; assigneeId: string | null; queuePosition?: number };
  };
  const current = async (id: string) =>
    (await api.get(admin.token, `/api/conversations/${id}`)).body.conversation as {
      status: string;
      assigneeId: string | null;
      team: string | null;
    };
  const act = (user: TestUser, id: string, action: string, body: unknown = {}) =>
    api.post(user.token, `/api/conversations/${id}/${action}`, body);

  it('gives each new conversation to the least-loaded available agent, round-robin among equals', async () => {
    const a = await agent();
    const b = await agent({ available: false });
    const c = await agent({ available: false });
    const who = async () => {
      const conversation = await support();
      expect(conversation.status).toBe('assigned');
      return [a, b, c].find((x) => x.id === conversation.assigneeId) ?? conversation.assigneeId;
    };
    expect([await who(), await who()]).toEqual([a, a]); // only A is there
    await setAvailable(b, true);
    expect(await who()).toBe(b); // B has none, A has two
    await setAvailable(c, true);
    expect(await who()).toBe(c); // loads now 2, 1, 1
    // Among the equally loaded, the one who waited longest since their last assignment goes first.
    expect([await who(), await who()]).toEqual([b, c]); // 2, 2, 2
    expect([await who(), await who(), await who()]).toEqual([a, b, c]);
  });

  it('records an automatic assignment as a claim with reason auto_assign and no human actor', async () => {
    const a = await agent();
    const conversation = await support();
    expect(conversation.assigneeId).toBe(a.id);
    expect((await eventsOf(app, conversation.id)).map((e) => [e.type, e.reason, e.actor_id])).toEqual([
      ['handoff', 'user_request', employee.id],
      ['claim', 'auto_assign', null],
    ]);
  });

  it('records the first response when the assigned agent first replies, not when they write an internal note', async () => {
    const a = await agent();
    const conversation = await support();
    expect(conversation.assigneeId).toBe(a.id);
    const firstResponse = async () =>
      (
        (await api.get(admin.token, `/api/conversations/${conversation.id}`)).body.conversation as {
          firstResponseAt: string | null;
        }
      ).firstResponseAt;
    await say(api, employee, conversation.id, 'Is anyone there?');
    await say(api, a, conversation.id, 'Checking their contract first', { internal: true });
    expect(await firstResponse()).toBeNull();
    await say(api, a, conversation.id, 'Hello, I am looking into it.');
    const first = await firstResponse();
    expect(first).not.toBeNull();
    await say(api, a, conversation.id, 'Found it.');
    expect(await firstResponse()).toBe(first);
  });

  it('respects capacity: a full agent gets nothing, the conversation waits, and a resolve hands over the next one', async () => {
    const a = await agent();
    const b = await agent();
    for (const x of [a, b]) expectStatus(await api.patch(admin.token, `/api/users/${x.id}`, { capacity: 1 }), 200);
    const first = await support();
    const second = await support();
    expect(new Set([first.assigneeId, second.assigneeId])).toEqual(new Set([a.id, b.id]));
    const waiting = await support();
    const later = await support();
    expect(waiting).toMatchObject({ status: 'queued', assigneeId: null, queuePosition: 1 });
    expect(later).toMatchObject({ status: 'queued', queuePosition: 2 });

    const freed = first.assigneeId === a.id ? a : b;
    expectStatus(await act(freed, first.id, 'resolve'), 200);
    expect(await current(waiting.id)).toMatchObject({ status: 'assigned', assigneeId: freed.id });
    expect(await current(later.id)).toMatchObject({ status: 'queued', assigneeId: null });
  });

  it('matches teams: a billing conversation only goes to billing agents, and one nobody can take does not hold up the rest', async () => {
    const general = await agent({ capacity: 1 });
    const billing = await agent({ skills: ['billing'], capacity: 5 });
    // Both are free; only one has the skill.
    expect((await support('billing')).assigneeId).toBe(billing.id);
    expect((await support('billing')).assigneeId).toBe(billing.id);
    // Nobody knows legal matters: it waits.
    const legal = await support('legal');
    expect(legal).toMatchObject({ status: 'queued', assigneeId: null });

    await setAvailable(billing, false);
    const generalOne = await support();
    expect(generalOne.assigneeId).toBe(general.id); // now full
    const generalTwo = await support();
    expect(generalTwo.status).toBe('queued'); // behind the legal one
    // The general agent frees up: the legal conversation at the head of the queue cannot go to
    // them, the general one behind it can.
    expectStatus(await act(general, generalOne.id, 'resolve'), 200);
    expect(await current(generalTwo.id)).toMatchObject({ status: 'assigned', assigneeId: general.id });
    expect(await current(legal.id)).toMatchObject({ status: 'queued', assigneeId: null });

    // Skills set by an admin take effect for what waits once the agent is back.
    expectStatus(await api.patch(admin.token, `/api/users/${billing.id}`, { skills: ['billing', 'legal'] }), 200);
    await setAvailable(billing, true);
    expect(await current(legal.id)).toMatchObject({ status: 'assigned', assigneeId: billing.id });
  });

  it('hands a bot conversation to the team its bot names', async () => {
    await agent(); // a general agent, free
    const hr = await agent({ skills: ['hr'] });
    const botId = await newBot(app);
    await app.services.db.query(`UPDATE bots SET handoff = handoff || '{"team": "hr"}'::jsonb WHERE id = $1`, [botId]);
    for (let i = 0; i < 2; i += 1) {
      const id = (await api.post(employee.token, '/api/conversations', { botId })).body.conversation.id;
      await say(api, employee, id, '我要转人工');
      expect(await current(id)).toMatchObject({ status: 'assigned', assigneeId: hr.id, team: 'hr' });
    }
  });

  it('keeps an agent who set themselves away out of automatic assignment; coming back takes what waits', async () => {
    const a = await agent();
    const b = await agent();
    await setAvailable(b, false);
    expect((await support()).assigneeId).toBe(a.id);
    expect((await support()).assigneeId).toBe(a.id);
    await setAvailable(a, false);
    const waiting = await support();
    expect(waiting.status).toBe('queued');
    await setAvailable(b, true);
    expect(await current(waiting.id)).toMatchObject({ status: 'assigned', assigneeId: b.id });
    expectError(await api.patch(employee.token, '/api/agents/me', { available: false }), 403);
  });

  it('gives a conversation transferred back to the team to another agent, not straight back', async () => {
    const a = await agent();
    const b = await agent();
    const first = await support();
    const second = await support();
    expect(new Set([first.assigneeId, second.assigneeId])).toEqual(new Set([a.id, b.id]));
    const giver = first.assigneeId === a.id ? a : b;
    const other = giver === a ? b : a;
    // The giver now has the fewest open conversations, but they just handed this one away.
    const requeued = await act(giver, first.id, 'transfer', {});
    expectStatus(requeued, 200);
    expect(requeued.body.conversation).toMatchObject({ status: 'assigned', assigneeId: other.id });
    expect((await eventsOf(app, first.id)).map((e) => [e.type, e.reason])).toEqual([
      ['handoff', 'user_request'],
      ['claim', 'auto_assign'],
      ['requeue', 'agent_transfer'],
      ['claim', 'auto_assign'],
    ]);
  });
});
