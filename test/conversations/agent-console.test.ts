import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { newBot, newGroup, type TestUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { apiOf, expectError, expectStatus, quickUser, resetQueue, say, type Api } from './helpers.ts';

/** What the agent console reads and writes: canned replies, the customer card, presence, readable history. */
describe.each(backends)('the agent console on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp(backend, { env: { ASSIGNMENT_MODE: 'auto' } });
    api = apiOf(app);
    admin = await quickUser(app, { role: 'admin', name: 'Ada Admin' });
  });
  afterAll(() => app?.close());
  beforeEach(() => resetQueue(app));

  const shortcuts = async (who: TestUser) => {
    const res = await api.get(who.token, '/api/canned-replies');
    expectStatus(res, 200);
    return (res.body.items as { shortcut: string; shared: boolean }[]).map((c) => `${c.shortcut}:${c.shared}`);
  };
  const auditActions = async () => {
    const res = await api.get(admin.token, '/api/admin/audit?limit=50');
    return (res.body.items as { action: string }[]).map((a) => a.action);
  };

  describe('canned replies', () => {
    it('keeps an agent’s own replies to that agent, and shared ones for everyone', async () => {
      const [bo, cy] = await Promise.all([quickUser(app, { role: 'agent' }), quickUser(app, { role: 'agent' })]);
      const mine = await api.post(bo.token, '/api/canned-replies', { shortcut: 'thanks', body: 'Thanks, {name}!' });
      expectStatus(mine, 201);
      expect(mine.body.cannedReply).toMatchObject({ shortcut: 'thanks', body: 'Thanks, {name}!', shared: false });
      const id: string = mine.body.cannedReply.id;
      const shared = await api.post(admin.token, '/api/canned-replies', {
        shortcut: 'hello',
        body: 'Hello {name}, this is {agent}.',
        shared: true,
      });
      expectStatus(shared, 201);

      expect(await shortcuts(bo)).toEqual(['hello:true', 'thanks:false']);
      // Cy sees the shared one only; Bo's reply does not exist for Cy, whatever Cy tries.
      expect(await shortcuts(cy)).toEqual(['hello:true']);
      expectError(await api.patch(cy.token, `/api/canned-replies/${id}`, { body: 'mine now' }), 404);
      expectError(await api.del(cy.token, `/api/canned-replies/${id}`), 404);
      // Cy may have a "thanks" of their own; Bo may not have two.
      expectStatus(await api.post(cy.token, '/api/canned-replies', { shortcut: 'thanks', body: 'Cheers' }), 201);
      expectError(await api.post(bo.token, '/api/canned-replies', { shortcut: 'THANKS', body: 'again' }), 409);

      const edited = await api.patch(bo.token, `/api/canned-replies/${id}`, { body: 'Many thanks, {name}.' });
      expectStatus(edited, 200);
      expect(edited.body.cannedReply.body).toBe('Many thanks, {name}.');
      expectStatus(await api.del(bo.token, `/api/canned-replies/${id}`), 204);
      expect(await shortcuts(bo)).toEqual(['hello:true']);
    });

    it('lets only admins write shared replies, and audits what they do', async () => {
      const agent = await quickUser(app, { role: 'agent' });
      const employee = await quickUser(app);
      expectError(
        await api.post(agent.token, '/api/canned-replies', { shortcut: 'refund', body: 'x', shared: true }),
        403,
      );
      expectError(await api.get(employee.token, '/api/canned-replies'), 403);
      expectError(await api.post(employee.token, '/api/canned-replies', { shortcut: 'mine', body: 'x' }), 403);
      expectError(await api.post(agent.token, '/api/canned-replies', { shortcut: 'two words', body: 'x' }), 400);

      const created = await api.post(admin.token, '/api/canned-replies', {
        shortcut: 'refund',
        body: 'Refunds take 5 days.',
        shared: true,
      });
      expectStatus(created, 201);
      const id: string = created.body.cannedReply.id;
      expectError(await api.patch(agent.token, `/api/canned-replies/${id}`, { body: 'Refunds take 1 day.' }), 403);
      expectError(await api.del(agent.token, `/api/canned-replies/${id}`), 403);
      expectStatus(await api.patch(admin.token, `/api/canned-replies/${id}`, { shortcut: 'refunds' }), 200);
      expectStatus(await api.del(admin.token, `/api/canned-replies/${id}`), 204);
      expect((await auditActions()).slice(0, 3)).toEqual([
        'canned_reply.deleted',
        'canned_reply.updated',
        'canned_reply.created',
      ]);
      // An agent's own replies are theirs: nothing of them in the audit trail.
      expectStatus(await api.post(agent.token, '/api/canned-replies', { shortcut: 'bye', body: 'Bye!' }), 201);
      expect((await auditActions())[0]).toBe('canned_reply.deleted');
    });
  });

  describe('the customer card', () => {
    it('shows an agent the employee’s name, email, groups and earlier conversations the agent may open', async () => {
      const alex = await quickUser(app, { name: 'Alex Employee' });
      const group = await newGroup(app, `Finance ${Date.now()}`);
      expectStatus(
        await request(app.url, 'PUT', `/api/groups/${group}/members/${alex.id}`, { token: admin.token }),
        204,
      );
      const bot = await newBot(app);
      // An earlier support request (handed over: agents may open it), and a chat still with the bot (private).
      const earlier = (await api.post(alex.token, '/api/conversations', { kind: 'support' })).body.conversation;
      const privateChat = (await api.post(alex.token, '/api/conversations', { botId: bot })).body.conversation;
      await say(api, alex, privateChat.id, 'just asking the assistant');
      const current = (await api.post(alex.token, '/api/conversations', { kind: 'support' })).body.conversation;
      const agent = await quickUser(app, { role: 'agent' });

      const res = await api.get(agent.token, `/api/conversations/${current.id}/customer`);
      expectStatus(res, 200);
      expect(res.body.customer).toMatchObject({
        id: alex.id,
        name: 'Alex Employee',
        email: alex.email,
        groups: [{ id: group, name: expect.stringMatching(/^Finance/) }],
      });
      const listed = (res.body.customer.conversations as { id: string }[]).map((c) => c.id);
      expect(listed).toEqual([earlier.id]);
      // Nothing an agent does not need: no role, skills or password data.
      expect(Object.keys(res.body.customer).sort()).toEqual(['conversations', 'email', 'groups', 'id', 'name']);
      // And each listed conversation opens for the agent.
      expectStatus(await api.get(agent.token, `/api/conversations/${earlier.id}`), 200);
    });

    it('refuses employees, even the customer, and agents for a conversation they may not read', async () => {
      const alex = await quickUser(app);
      const colleague = await quickUser(app);
      const agent = await quickUser(app, { role: 'agent' });
      const support = (await api.post(alex.token, '/api/conversations', { kind: 'support' })).body.conversation;
      expectError(await api.get(alex.token, `/api/conversations/${support.id}/customer`), 403);
      expectError(await api.get(colleague.token, `/api/conversations/${support.id}/customer`), 403);
      const direct = (await api.post(alex.token, '/api/conversations', { kind: 'direct', userId: colleague.id })).body
        .conversation;
      expectError(await api.get(agent.token, `/api/conversations/${direct.id}/customer`), 404);
    });
  });

  describe('presence', () => {
    it('shows an agent the presence they set, and auto-assignment passes over them while they are away', async () => {
      const bo = await quickUser(app, { role: 'agent', name: 'Bo Agent' });
      const cy = await quickUser(app, { role: 'agent', name: 'Cy Agent' });
      const employee = await quickUser(app);
      const me = async (who: TestUser) => (await api.get(who.token, '/api/agents/me')).body.agent;
      await api.patch(bo.token, '/api/agents/me', { available: true });
      expect(await me(bo)).toEqual({ id: bo.id, name: 'Bo Agent', available: true });
      expectStatus(await api.patch(bo.token, '/api/agents/me', { available: false }), 200);
      expect(await me(bo)).toMatchObject({ available: false });
      expectError(await api.get(employee.token, '/api/agents/me'), 403);

      await api.patch(cy.token, '/api/agents/me', { available: true });
      for (let i = 0; i < 3; i++) {
        const c = (await api.post(employee.token, '/api/conversations', { kind: 'support' })).body.conversation;
        expect(c.assigneeId).toBe(cy.id);
      }
    });
  });

  describe('history', () => {
    it('names who moved the conversation and to whom', async () => {
      // Agents of earlier tests step away, so the automatic claim below can only be Bo's.
      await app.services.db.query(`UPDATE users SET available = false WHERE role IN ('agent', 'admin')`);
      const alex = await quickUser(app, { name: 'Alex Employee' });
      const bo = await quickUser(app, { role: 'agent', name: 'Bo Agent', available: false });
      const cy = await quickUser(app, { role: 'agent', name: 'Cy Agent', available: false });
      const bot = await newBot(app);
      const chat = (await api.post(alex.token, '/api/conversations', { botId: bot })).body.conversation;
      expectStatus(
        await api.post(alex.token, `/api/conversations/${chat.id}/handoff`, { reason: 'user_request' }),
        200,
      );
      await api.patch(bo.token, '/api/agents/me', { available: true }); // takes it automatically
      expectStatus(await api.post(bo.token, `/api/conversations/${chat.id}/transfer`, { agentId: cy.id }), 200);
      expectStatus(await api.post(cy.token, `/api/conversations/${chat.id}/resolve`), 200);

      const res = await api.get(cy.token, `/api/conversations/${chat.id}/events`);
      expectStatus(res, 200);
      const events = (res.body.items as { type: string; actorName: string | null; assigneeName: string | null }[]).map(
        (e) => [e.type, e.actorName, e.assigneeName],
      );
      expect(events).toEqual([
        ['handoff', 'Alex Employee', null],
        ['claim', null, 'Bo Agent'],
        ['transfer', 'Bo Agent', 'Cy Agent'],
        ['resolve', 'Cy Agent', null],
      ]);
    });
  });
});
