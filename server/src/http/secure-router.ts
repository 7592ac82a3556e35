import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../core/errors.ts';
import type { Actor, TokenScope } from '../core/policy/actor.ts';
import { credentialAllows, hasAccess, type Access } from '../core/policy/policy.ts';

export interface RouteRecord {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  access: Access;
}

function requireAccess(access: Access, scope: TokenScope) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (access === 'public') return next();
    if (!req.actor) return next(new AppError(401, 'unauthorized', 'Sign in first'));
    if (!credentialAllows(req.actor, scope)) {
      return next(new AppError(403, 'insufficient_scope', `This API token lacks the ${scope} scope`));
    }
    if (!hasAccess(req.actor, access)) return next(new AppError(403, 'forbidden', `This needs the ${access} role`));
    next();
  };
}

/**
 * Every API route is declared through this: the access level is part of the declaration, checked
 * before any handler runs, and recorded in `registry` (a test walks it, so no route can forget).
 * `scope`: what a personal API token needs to use any route of this router (sessions need none).
 */
export function createSecureRouter(registry: RouteRecord[], scope: TokenScope) {
  const router = Router();
  const declare =
    (method: RouteRecord['method']) =>
    (path: string, access: Access, ...handlers: RequestHandler[]) => {
      registry.push({ method, path, access });
      router[method](path, requireAccess(access, scope), ...handlers);
    };
  return {
    router,
    get: declare('get'),
    post: declare('post'),
    patch: declare('patch'),
    put: declare('put'),
    delete: declare('delete'),
  };
}

export type SecureRouter = ReturnType<typeof createSecureRouter>;

/** The actor of a route declared with access other than 'public'. */
export function actorOf(req: Request): Actor {
  if (!req.actor) throw new AppError(401, 'unauthorized', 'Sign in first');
  return req.actor;
}

export function clientOf(req: Request) {
  return { ip: req.ip ?? 'unknown', userAgent: req.get('user-agent') ?? null };
}
