import type { CookieOptions, Request, Response } from 'express';
import { z } from 'zod';
import type { AuthService } from '../../core/auth/auth.service.ts';
import type { SessionRow } from '../../core/auth/session.repository.ts';
import type { ApiTokenRow } from '../../core/auth/api-token.repository.ts';
import { attachmentRules } from '../../core/conversations/attachment-type.ts';
import { AppError } from '../../core/errors.ts';
import { TOKEN_SCOPES } from '../../core/policy/actor.ts';
import { presentUser } from '../../core/users/user.presenter.ts';
import type { Services } from '../../services.ts';
import { SESSION_COOKIE } from '../middleware/authenticate.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body, text, uuidParam } from '../validate.ts';

export const loginSchema = z.strictObject({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1024),
});

export const tokenSchema = z.strictObject({
  name: text(100),
  /** Default `chat` (only /v1): a token reaches the REST API only when its maker asks for it. */
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).max(TOKEN_SCOPES.length).optional(),
  /** Default 90 days; every new token expires. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

export function sessionCookieOptions(services: Pick<Services, 'config'>, req: Request): CookieOptions {
  const secure = req.secure || services.config.publicUrl?.startsWith('https:') === true;
  // Lax: sent on top-level navigation back from the SSO provider, never on cross-site POSTs.
  return { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: services.config.sessionTtlMs };
}

function presentSession(session: SessionRow, currentId?: string) {
  return {
    id: session.id,
    ip: session.ip,
    userAgent: session.user_agent,
    createdAt: session.created_at.toISOString(),
    lastUsedAt: session.last_used_at.toISOString(),
    expiresAt: session.expires_at.toISOString(),
    current: session.id === currentId,
  };
}

function presentToken(token: ApiTokenRow) {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    scopes: token.scopes,
    createdAt: token.created_at.toISOString(),
    lastUsedAt: token.last_used_at?.toISOString() ?? null,
    expiresAt: token.expires_at?.toISOString() ?? null,
  };
}

/** Sign-in, sign-out, who am I, my sessions and my personal API tokens. */
export function authRoutes(r: SecureRouter, services: Services, auth: AuthService) {
  r.post('/api/auth/login', 'public', async (req: Request, res: Response) => {
    const input = body(loginSchema, req);
    try {
      const { token, user } = await auth.login(input, clientOf(req));
      res.cookie(SESSION_COOKIE, token, sessionCookieOptions(services, req));
      const full = await auth.profile(user.id);
      res.json({ token, user: presentUser(full!) });
    } catch (error) {
      if (error instanceof AppError && error.code === 'too_many_attempts') {
        res.setHeader('Retry-After', String((error.details as { retryAfterSeconds: number }).retryAfterSeconds));
      }
      throw error;
    }
  });

  r.get('/api/auth/config', 'public', (_req, res) => {
    res.json({
      sso: services.config.oidc ? { enabled: true, loginUrl: '/api/auth/oidc/login' } : { enabled: false },
      // The web app's renderer keeps links to these domains (and to an answer's sources), as the server does.
      answerLinks: { allowedDomains: services.config.answerLinks.allowedDomains },
      // The composer refuses a file the server would refuse before uploading it.
      attachments: attachmentRules(services.config.attachmentMaxBytes),
    });
  });

  r.post('/api/auth/logout', 'user', async (req, res) => {
    await auth.logout(actorOf(req), clientOf(req));
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });

  r.get('/api/me', 'user', async (req, res) => {
    const user = await auth.profile(actorOf(req).id);
    if (!user) throw new AppError(401, 'unauthorized', 'Sign in first');
    res.json({ user: presentUser(user) });
  });

  r.get('/api/auth/sessions', 'user', async (req, res) => {
    const actor = actorOf(req);
    const sessions = await auth.listSessions(actor);
    res.json({ items: sessions.map((s) => presentSession(s, actor.credential.id)), next: null });
  });

  r.delete('/api/auth/sessions/:id', 'user', async (req, res) => {
    await auth.revokeSession(actorOf(req), uuidParam(req), clientOf(req));
    res.status(204).end();
  });

  r.post('/api/tokens', 'user', async (req, res) => {
    const { token, apiToken } = await auth.createApiToken(actorOf(req), body(tokenSchema, req), clientOf(req));
    // The secret is shown this once; only its hash is kept.
    res.status(201).json({ token, apiToken: presentToken(apiToken) });
  });

  r.get('/api/tokens', 'user', async (req, res) => {
    const tokens = await auth.listApiTokens(actorOf(req));
    res.json({ items: tokens.map(presentToken), next: null });
  });

  r.delete('/api/tokens/:id', 'user', async (req, res) => {
    await auth.revokeApiToken(actorOf(req), uuidParam(req), clientOf(req));
    res.status(204).end();
  });
}
