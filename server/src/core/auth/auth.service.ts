import { AppError } from '../errors.ts';
import { appendAudit, recordAudit } from '../audit/audit.service.ts';
import { generatePassword, hashPassword, verifyPassword } from '../crypto/password.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { Actor } from '../policy/actor.ts';
import type { RealtimeBus } from '../realtime/bus.ts';
import { createUserRepository, type UserRow, type UserWithGroups } from '../users/user.repository.ts';
import { createApiTokenRepository } from './api-token.repository.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createSessionRepository } from './session.repository.ts';
import { generateToken, hashToken, tokenKind } from './token.ts';

export interface AuthDeps {
  db: Database;
  bus: Pick<RealtimeBus, 'publish'>;
  secret: string;
  sessionTtlMs: number;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/**
 * touch() writes last_used_at at most once a minute; the row just read already says whether it
 * would, so most requests skip that round trip (the statement keeps its own guard for races).
 */
const TOUCH_INTERVAL_MS = 60_000;
const dueForTouch = (lastUsedAt: Date | null) => !lastUsedAt || Date.now() - lastUsedAt.getTime() >= TOUCH_INTERVAL_MS;

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Email or password is incorrect');

/**
 * Sign-in, sessions and personal API tokens. Secrets are random, shown once, and stored only as a
 * keyed hash; every change that ends access is published so open sockets close at once.
 */
export function createAuthService(deps: AuthDeps) {
  const { db, bus, secret } = deps;
  // Unknown emails still pay for one argon2 verification, so timing does not reveal which exist.
  const decoyHash = hashPassword(generatePassword());

  async function startSession(user: Pick<UserRow, 'id'>, client: ClientInfo, tx: Queryable) {
    const token = generateToken('session');
    const session = await createSessionRepository(tx).insert({
      userId: user.id,
      tokenHash: hashToken(secret, token),
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      expiresAt: new Date(Date.now() + deps.sessionTtlMs),
    });
    await createUserRepository(tx).markLogin(user.id);
    return { token, session };
  }

  /** A new session and its audit record, committed together. */
  function signIn(user: UserRow, client: ClientInfo, method: 'password' | 'sso') {
    return db.transaction(async (tx) => {
      const started = await startSession(user, client, tx);
      await appendAudit(tx, {
        action: 'auth.login.succeeded',
        actor: user,
        target: { type: 'session', id: started.session.id },
        ip: client.ip,
        details: { method },
      });
      return started;
    });
  }

  return {
    async login(input: { email: string; password: string }, client: ClientInfo) {
      const throttle = createLoginThrottle(db);
      const tooMany = (retryAfterSeconds: number) =>
        new AppError(429, 'too_many_attempts', `Too many failed sign-ins. Try again in ${retryAfterSeconds} seconds.`, {
          retryAfterSeconds,
        });
      const decision = await throttle.check(client.ip, input.email);
      if (!decision.allowed) throw tooMany(decision.retryAfterSeconds);
      // Counted before the password is checked, so parallel guesses cannot all slip past the limit.
      const attempt = await throttle.attempt(client.ip, input.email);
      if (!attempt.allowed) throw tooMany(attempt.retryAfterSeconds);
      const user = await createUserRepository(db).findByEmail(input.email);
      const ok = user?.password_hash
        ? await verifyPassword(user.password_hash, input.password)
        : (await verifyPassword(await decoyHash, input.password), false);
      if (!user || !ok || user.disabled) {
        await throttle.failed(client.ip, input.email, attempt);
        await recordAudit(db, {
          action: 'auth.login.failed',
          actor: user ? { id: user.id, email: user.email } : null,
          ip: client.ip,
          details: { email: input.email.slice(0, 320), reason: !user ? 'unknown_email' : user.disabled && ok ? 'disabled' : 'wrong_password' },
        });
        throw invalidCredentials();
      }
      await throttle.succeeded(client.ip, input.email);
      return { ...(await signIn(user, client, 'password')), user };
    },

    /** For single sign-on: the identity provider already authenticated the user. */
    startSsoSession(user: UserRow, client: ClientInfo) {
      return signIn(user, client, 'sso');
    },

    /** Resolves a bearer/cookie secret to the acting user; undefined when it is unknown, expired, revoked or the user is disabled. */
    async authenticate(token: string): Promise<Actor | undefined> {
      const kind = tokenKind(token);
      if (!kind || token.length > 128) return undefined;
      const tokenHash = hashToken(secret, token);
      const users = createUserRepository(db);
      let credential: Actor['credential'];
      let user: UserWithGroups | undefined;
      if (kind === 'session') {
        const found = await users.findBySessionHash(tokenHash);
        if (!found) return undefined;
        credential = { kind: 'session', id: found.session_id };
        user = found;
        if (dueForTouch(found.session_last_used_at)) await createSessionRepository(db).touch(found.session_id);
      } else {
        const tokens = createApiTokenRepository(db);
        const apiToken = await tokens.findLiveByHash(tokenHash);
        if (!apiToken) return undefined;
        credential = { kind: 'personal-token', id: apiToken.id };
        if (dueForTouch(apiToken.last_used_at)) await tokens.touch(apiToken.id);
        user = await users.findById(apiToken.user_id);
      }
      if (!user || user.disabled) return undefined;
      return {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        groupIds: user.groups.map((g) => g.id),
        credential,
      };
    },

    async logout(actor: Actor, client: ClientInfo): Promise<void> {
      if (actor.credential.kind !== 'session') return;
      await this.revokeSession(actor, actor.credential.id, client, 'auth.logout');
    },

    listSessions(actor: Actor) {
      return createSessionRepository(db).listLive(actor.id);
    },

    async revokeSession(actor: Actor, sessionId: string, client: ClientInfo, action = 'auth.session.revoked'): Promise<void> {
      const revoked = await db.transaction(async (tx) => {
        const done = await createSessionRepository(tx).revoke(actor.id, sessionId);
        if (done) await appendAudit(tx, { action, actor, target: { type: 'session', id: sessionId }, ip: client.ip });
        return done;
      });
      if (!revoked) throw new AppError(404, 'not_found', 'Session not found');
      await bus.publish({ type: 'auth.revoked', userId: actor.id, sessionIds: [sessionId] });
    },

    async createApiToken(actor: Actor, input: { name: string; expiresInDays?: number | undefined }, client: ClientInfo) {
      const token = generateToken('personal');
      const apiToken = await db.transaction(async (tx) => {
        const row = await createApiTokenRepository(tx).insert({
          userId: actor.id,
          name: input.name,
          tokenHash: hashToken(secret, token),
          prefix: token.slice(0, 12),
          expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
        });
        await appendAudit(tx, {
          action: 'auth.token.created',
          actor,
          target: { type: 'api_token', id: row.id },
          ip: client.ip,
          details: { name: row.name, expiresAt: row.expires_at?.toISOString() ?? null },
        });
        return row;
      });
      return { token, apiToken };
    },

    listApiTokens(actor: Actor) {
      return createApiTokenRepository(db).listLive(actor.id);
    },

    async revokeApiToken(actor: Actor, id: string, client: ClientInfo): Promise<void> {
      const revoked = await db.transaction(async (tx) => {
        const row = await createApiTokenRepository(tx).revoke(actor.id, id);
        if (row) {
          await appendAudit(tx, {
            action: 'auth.token.revoked',
            actor,
            target: { type: 'api_token', id },
            ip: client.ip,
            details: { name: row.name },
          });
        }
        return row;
      });
      if (!revoked) throw new AppError(404, 'not_found', 'Token not found');
      // Sockets opened with this token close too.
      await bus.publish({ type: 'auth.revoked', userId: actor.id, tokenIds: [id] });
    },

    /**
     * Ends every session of a user (disabled, password reset, role change) and tells open sockets.
     * Call it after the change commits; a disabled user is refused by authenticate() regardless.
     * With `tokens` (the user was disabled), sockets opened with their personal API tokens close
     * too: the tokens stay (they work again if the user is enabled) but are refused meanwhile.
     */
    async revokeAllSessions(userId: string, options: { tokens?: boolean } = {}): Promise<string[]> {
      const ids = await createSessionRepository(db).revokeAll(userId);
      // A disabled user's personal tokens are revoked, not just refused: re-enabling must not revive them.
      const tokenIds = options.tokens ? await createApiTokenRepository(db).revokeAll(userId) : [];
      await bus.publish({ type: 'auth.revoked', userId, sessionIds: ids, ...(tokenIds.length ? { tokenIds } : {}) });
      return ids;
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
