import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { createConversationRepository } from '../../server/src/core/conversations/conversation.repository.ts';
import { createUserRepository, type Role } from '../../server/src/core/users/user.repository.ts';
import type { TestApp } from '../support/app.ts';
import type { TestUser } from '../support/fixtures.ts';
import { request, type ApiResponse } from '../support/http.ts';
import type { Frame, TestSocket } from '../support/ws-client.ts';
import { sleep } from '../support/wait.ts';

/** Shared helpers of the conversation suites. */

/**
 * A user with a live session, without the HTTP sign-in (and its argon2 verification): the same
 * session a single sign-on would start. For suites that need many people quickly.
 */
export async function quickUser(
  app: TestApp,
  options: { role?: Role; name?: string; skills?: string[]; capacity?: number; available?: boolean } = {},
): Promise<TestUser> {
  const email = `c-${randomBytes(5).toString('hex')}@example.test`;
  const users = createUserRepository(app.services.db);
  const row = await users.insert({
    email,
    name: options.name ?? email.split('@')[0]!,
    passwordHash: null,
    role: options.role ?? 'employee',
    skills: options.skills ?? [],
    capacity: options.capacity ?? 5,
  });
  if (options.available === false)
    await app.services.db.query('UPDATE users SET available = false WHERE id = $1', [row.id]);
  const { token } = await app.domain.auth.startSsoSession(row, { ip: '127.0.0.1', userAgent: 'conversation-tests' });
  return { id: row.id, email, role: row.role, token };
}

/** Short HTTP calls with a bearer token. */
export function apiOf(app: TestApp) {
  return {
    get: (token: string, path: string) => request(app.url, 'GET', path, { token }),
    post: (token: string, path: string, body: unknown = {}) => request(app.url, 'POST', path, { token, body }),
    patch: (token: string, path: string, body: unknown) => request(app.url, 'PATCH', path, { token, body }),
    del: (token: string, path: string) => request(app.url, 'DELETE', path, { token }),
  };
}

export type Api = ReturnType<typeof apiOf>;

/** Asserts the error shape with this status (and code). */
export function expectError(res: ApiResponse, status: number, code?: string | string[]) {
  expect(res.status, `${res.status} ${JSON.stringify(res.body)}`).toBe(status);
  const codes = code === undefined ? undefined : Array.isArray(code) ? code : [code];
  expect(res.body?.error?.message, JSON.stringify(res.body)).toEqual(expect.any(String));
  if (codes) expect(codes, JSON.stringify(res.body)).toContain(res.body.error.code);
}

export function expectStatus(res: ApiResponse, status: number) {
  expect(res.status, `${res.status} ${JSON.stringify(res.body)}`).toBe(status);
}

/** Posts a message and returns it (asserting 201). */
export async function say(
  api: Api,
  user: TestUser,
  conversationId: string,
  body: string,
  extra: Record<string, unknown> = {},
) {
  const res = await api.post(user.token, `/api/conversations/${conversationId}/messages`, { body, ...extra });
  expectStatus(res, 201);
  return res.body.message as { id: number; body: string; internal: boolean; [k: string]: unknown };
}

/** The conversation's routing events straight from the database (who, when, why). */
export async function eventsOf(app: TestApp, conversationId: string) {
  return createConversationRepository(app.services.db).events(conversationId);
}

export async function membersOf(app: TestApp, conversationId: string): Promise<string[]> {
  return (await createConversationRepository(app.services.db).members(conversationId)).map((m) => m.user_id);
}

export const messageIds = (frames: Frame[], type = 'message.created'): number[] =>
  frames.filter((f) => f.type === type).map((f) => f.message.id as number);

/** Frames that mention a conversation anywhere in them. */
export const framesAbout = (socket: TestSocket, conversationId: string): Frame[] =>
  socket.frames.filter((f) => JSON.stringify(f).includes(conversationId));

/** Lets in-flight bus deliveries land before asserting that something did NOT arrive. */
export const settle = (ms = 150) => sleep(ms);

/** Ends every open routed conversation and sends every agent away: a clean queue for the next test. */
export async function resetQueue(app: TestApp): Promise<void> {
  await app.services.db.query(
    `UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE status IN ('queued', 'assigned')`,
  );
  await app.services.db.query(`UPDATE users SET available = false WHERE role = 'agent'`);
}
