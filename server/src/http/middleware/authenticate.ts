import type { NextFunction, Request, Response } from 'express';
import type { AuthService } from '../../core/auth/auth.service.ts';
import { AppError } from '../../core/errors.ts';
import type { Actor } from '../../core/policy/actor.ts';

export const SESSION_COOKIE = 'enclave_session';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
    /** How the credential arrived: cookies need an Origin check on writes, bearer tokens do not. */
    credentialVia?: 'cookie' | 'bearer';
  }
}

/** The bearer token if present, else the session cookie. */
export function credentialFrom(req: Request): { token: string; via: 'cookie' | 'bearer' } | undefined {
  const header = req.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? { token: match[1]!, via: 'bearer' } : undefined;
  }
  const cookie = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : undefined;
}

/** Resolves the actor when a credential is present; whether one is required is each route's declared access. */
export function authenticate(auth: Pick<AuthService, 'authenticate'>) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const credential = credentialFrom(req);
    if (credential) {
      req.actor = await auth.authenticate(credential.token);
      if (req.actor) req.credentialVia = credential.via;
    }
    next();
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Cross-site request forgery guard: a state-changing request that relies on the cookie must come
 * from our own origin (Origin, or Referer when a browser omits Origin). Bearer requests cannot be
 * forged by another site, so they pass.
 */
export function originCheck(publicUrl: string | undefined) {
  const configured = publicUrl ? new URL(publicUrl).origin : undefined;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (SAFE_METHODS.has(req.method) || req.credentialVia !== 'cookie') return next();
    const own = `${req.protocol}://${req.get('host')}`;
    const origin = req.get('origin') ?? originOf(req.get('referer'));
    if (origin && (origin === own || origin === configured)) return next();
    next(new AppError(403, 'origin_mismatch', 'This request must come from the Enclave web app (Origin check failed)'));
  };
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
