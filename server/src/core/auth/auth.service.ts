import { AppError } from '../errors.ts';
import { appendAudit, recordAudit } from '../audit/audit.service.ts';
import { generatePassword, hashPassword, verifyPassword } from '../crypto/password.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { Actor, TokenScope } from '../policy/actor.ts';
import { mayMintTokens } from '../policy/policy.ts';
import type { BusEvent, RealtimeBus } from '../realtime/bus.ts';
import { createUserRepository, type UserRow, type UserWithGroups } from '../users/user.repository.ts';
import { createActorCache, type CachedActor } from './actor-cache.ts';
import { createApiTokenRepository } from './api-token.repository.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { createSessionRepository } from './session.repository.ts';
import { generateToken, hashToken, tokenKind } from './token.ts';

export interface AuthDeps {
  db: Database;
  bus: Pick<RealtimeBus, 'publish' | 'subscribe'>;
  secret: string;
  sessionTtlMs: number;
  /** How long a resolved credential may be remembered (0: never); see actor-cache.ts. */
  authCacheMs: number;
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

/** What a new token may do, and for how long, when its maker does not say. */
export const DEFAULT_TOKEN_SCOPES: readonly TokenScope[] = ['chat'];
export const DEFAULT_TOKEN_DAYS = 90;

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Email or password is incorrect');

/**
 * Sign-in, sessions and personal API tokens. Secrets are random, shown once, and stored only as a
 * keyed hash; every change that ends access is published so open sockets close at once.
 */
export function createAuthService(deps: AuthDeps) {
  const { db, bus, secret } = deps;
  const actors = createActorCache({ ttlMs: deps.authCacheMs, maxEntries: 10_000 });
  bus.subscribe((event) => {
    if (event.type === 'auth.revoked') actors.forgetUsers([event.userId]);
    else if (event.type === 'user.changed') actors.forgetUsers(event.userIds);
    else if (event.type === 'bus.gap') actors.clear();
  });
  /** Forgets here at once (the bus delivers on a later tick), then tells every instance. */
  async function announce(event: Extract<BusEvent, { type: 'auth.revoked' | 'user.changed' }>) {
    actors.forgetUsers(event.type === 'auth.revoked' ? [event.userId] : event.userIds);
    await bus.publish(event);
  }
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

  /** The credential's owner as an actor, from the database. */
  async function lookUp(kind: 'session' | 'personal', tokenHash: string): Promise<CachedActor | undefined> {
    const users = createUserRepository(db);
    let user: UserWithGroups | undefined;
    let found: Omit<CachedActor, 'actor'> & { credential: Actor['credential'] };
    if (kind === 'session') {
      const session = await users.findBySessionHash(tokenHash);
      if (!session) return undefined;
      user = session;
      found = {
        credential: { kind: 'session', id: session.session_id },
        lastUsedAt: session.session_last_used_at,
        expiresAt: session.session_expires_at,
      };
    } else {
      const apiToken = await createApiTokenRepository(db).findLiveByHash(tokenHash);
      if (!apiToken) return undefined;
      user = await users.findById(apiToken.user_id);
      found = {
        credential: { kind: 'personal-token', id: apiToken.id, scopes: Object.freeze([...apiToken.scopes]) },
        lastUsedAt: apiToken.last_used_at,
        expiresAt: apiToken.expires_at,
      };
    }
    if (!user || user.disabled) return undefined;
    // Frozen: one cached actor serves many requests, none may change it for the others.
    const actor: Actor = Object.freeze({
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      credential: Object.freeze(found.credential),
    });
    return { actor, lastUsedAt: found.lastUsedAt, expiresAt: found.expiresAt };
  }

  async function touchIfDue(entry: CachedActor) {
    if (!dueForTouch(entry.lastUsedAt)) return;
    const { kind, id } = entry.actor.credential;
    await (kind === 'session' ? createSessionRepository(db).touch(id) : createApiTokenRepository(db).touch(id));
    entry.lastUsedAt = new Date();
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
          details: {
            email: input.email.slice(0, 320),
            reason: !user ? 'unknown_email' : user.disabled && ok ? 'disabled' : 'wrong_password',
          },
        });
        throw invalidCredentials();
      }
      await throttle.succeeded(client.ip, input.email);
      return { ...(await signIn(user, client, 'password')), user };
    },

    /**
     * For single sign-on: the identity provider already authenticated the user. The sign-in may
     * have changed their role and groups, which their other sessions' actors must show too.
     */
    async startSsoSession(user: UserRow, client: ClientInfo) {
      const started = await signIn(user, client, 'sso');
      await announce({ type: 'user.changed', userIds: [user.id] });
      return started;
    },

    /** After a committed change to users' role, groups, name or email: every instance re-reads their actors. */
    usersChanged(userIds: string[]): Promise<void> {
      return userIds.length ? announce({ type: 'user.changed', userIds }) : Promise.resolve();
    },

    /**
     * Resolves a bearer/cookie secret to the acting user; undefined when it is unknown, expired,
     * revoked or the user is disabled. `fresh`: skip the cache (re-checking an open socket).
     */
    async authenticate(token: string, options: { fresh?: boolean } = {}): Promise<Actor | undefined> {
      const kind = tokenKind(token);
      if (!kind || token.length > 128) return undefined;
      const tokenHash = hashToken(secret, token);
      const cached = options.fresh || !deps.authCacheMs ? undefined : actors.get(tokenHash);
      if (cached) {
        await touchIfDue(cached);
        return cached.actor;
      }
      const version = actors.version;
      const found = await lookUp(kind, tokenHash);
      if (!found) return undefined;
      await touchIfDue(found);
      if (deps.authCacheMs) actors.set(tokenHash, found, version);
      return found.actor;
    },

    async logout(actor: Actor, client: ClientInfo): Promise<void> {
      if (actor.credential.kind !== 'session') return;
      await this.revokeSession(actor, actor.credential.id, client, 'auth.logout');
    },

    /** The signed-in user's own record, with their groups (what /api/me and sign-in answer with). */
    profile(userId: string): Promise<UserWithGroups | undefined> {
      return createUserRepository(db).findById(userId);
    },

    listSessions(actor: Actor) {
      return createSessionRepository(db).listLive(actor.id);
    },

    async revokeSession(
      actor: Actor,
      sessionId: string,
      client: ClientInfo,
      action = 'auth.session.revoked',
    ): Promise<void> {
      const revoked = await db.transaction(async (tx) => {
        const done = await createSessionRepository(tx).revoke(actor.id, sessionId);
        if (done) await appendAudit(tx, { action, actor, target: { type: 'session', id: sessionId }, ip: client.ip });
        return done;
      });
      if (!revoked) throw new AppError(404, 'not_found', 'Session not found');
      await announce({ type: 'auth.revoked', userId: actor.id, sessionIds: [sessionId] });
    },

    async createApiToken(
      actor: Actor,
      input: { name: string; scopes?: readonly TokenScope[] | undefined; expiresInDays?: number | undefined },
      client: ClientInfo,
    ) {
      if (!mayMintTokens(actor)) {
        throw new AppError(
          403,
          'forbidden',
          'Personal API tokens can only be created by a signed-in user, not by a token',
        );
      }
      const scopes = input.scopes?.length ? [...new Set(input.scopes)] : DEFAULT_TOKEN_SCOPES;
      const days = input.expiresInDays ?? DEFAULT_TOKEN_DAYS;
      const token = generateToken('personal');
      const apiToken = await db.transaction(async (tx) => {
        const row = await createApiTokenRepository(tx).insert({
          userId: actor.id,
          name: input.name,
          tokenHash: hashToken(secret, token),
          prefix: token.slice(0, 12),
          scopes,
          expiresAt: new Date(Date.now() + days * 86_400_000),
        });
        await appendAudit(tx, {
          action: 'auth.token.created',
          actor,
          target: { type: 'api_token', id: row.id },
          ip: client.ip,
          details: { name: row.name, scopes: row.scopes, expiresAt: row.expires_at?.toISOString() ?? null },
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
      await announce({ type: 'auth.revoked', userId: actor.id, tokenIds: [id] });
    },

    /**
     * Ends every credential of a user (disabled, password reset, role change): their sessions and
     * personal API tokens are revoked, not just refused (re-enabling must not revive them, and a
     * token made before a reset is as suspect as the old password). Runs in `tx`, the transaction of
     * the change that ends access, so the two commit together or not at all; call the function it
     * returns after the commit: every server then forgets the user's actors and closes their sockets.
     */
    async revokeAllCredentialsIn(tx: Queryable, userId: string): Promise<() => Promise<void>> {
      const { sessionIds, tokenIds } = await revokeCredentials(tx, userId);
      return () => announce({ type: 'auth.revoked', userId, sessionIds, ...(tokenIds.length ? { tokenIds } : {}) });
    },

    /** `revokeAllCredentialsIn` in a transaction of its own, announced. */
    async revokeAllCredentials(userId: string): Promise<void> {
      const announceRevoked = await db.transaction((tx) => this.revokeAllCredentialsIn(tx, userId));
      await announceRevoked();
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;

/**
 * Revokes every session and personal token of a user in `tx` (the service's revokeAllCredentialsIn
 * also tells the servers; at start-up, before any socket exists, this alone is enough).
 */
export async function revokeCredentials(tx: Queryable, userId: string) {
  const sessionIds = await createSessionRepository(tx).revokeAll(userId);
  const tokenIds = await createApiTokenRepository(tx).revokeAll(userId);
  return { sessionIds, tokenIds };
}
