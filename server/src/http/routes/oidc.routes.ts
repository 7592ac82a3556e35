import type { Request } from 'express';
import type { OidcService } from '../../core/auth/oidc.service.ts';
import { AppError } from '../../core/errors.ts';
import type { Services } from '../../services.ts';
import { SESSION_COOKIE } from '../middleware/authenticate.ts';
import { clientOf, type SecureRouter } from '../secure-router.ts';
import { sessionCookieOptions } from './auth.routes.ts';

const PENDING_COOKIE = 'enclave_oidc';

function baseUrl(services: Pick<Services, 'config'>, req: Request): string {
  return services.config.publicUrl ?? `${req.protocol}://${req.get('host')}`;
}

/** Browser redirects for "Sign in with SSO"; failures land on the sign-in page with a reason. */
export function oidcRoutes(r: SecureRouter, services: Services, oidc: OidcService) {
  r.get('/api/auth/oidc/login', 'public', async (req, res) => {
    const { url, pending } = await oidc.begin(`${baseUrl(services, req)}/api/auth/oidc/callback`);
    res.cookie(PENDING_COOKIE, pending, {
      ...sessionCookieOptions(services, req),
      maxAge: 10 * 60_000,
      path: '/api/auth/oidc',
    });
    res.redirect(302, url);
  });

  r.get('/api/auth/oidc/callback', 'public', async (req, res) => {
    res.clearCookie(PENDING_COOKIE, { path: '/api/auth/oidc' });
    try {
      const callbackUrl = new URL(req.originalUrl, baseUrl(services, req));
      const { token } = await oidc.complete(
        callbackUrl,
        (req.cookies as Record<string, string>)[PENDING_COOKIE],
        clientOf(req),
      );
      res.cookie(SESSION_COOKIE, token, sessionCookieOptions(services, req));
      res.redirect(302, '/');
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'sso_failed';
      req.log.warn({ err: error }, 'single sign-on failed');
      res.redirect(302, `/login?error=${encodeURIComponent(code)}`);
    }
  });
}
