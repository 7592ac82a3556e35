import { createAuthService } from './core/auth/auth.service.ts';
import { createOidcService } from './core/auth/oidc.service.ts';
import { createUserService } from './core/users/user.service.ts';
import type { Services } from './services.ts';

/** Domain services built once over the process's infrastructure; shared by HTTP, WebSocket and jobs. */
export function createDomain(services: Services) {
  const auth = createAuthService({
    db: services.db,
    bus: services.bus,
    secret: services.secret,
    sessionTtlMs: services.config.sessionTtlMs,
  });
  const users = createUserService({ db: services.db, auth });
  const oidc = services.config.oidc
    ? createOidcService({ settings: services.config.oidc, db: services.db, auth, secret: services.secret })
    : undefined;
  return { auth, users, oidc };
}

export type Domain = ReturnType<typeof createDomain>;
