import * as oidc from 'openid-client';
import type { Config } from '../../config.ts';
import { signValue, verifySignedValue } from '../crypto/signed-value.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import type { AuthService, ClientInfo } from './auth.service.ts';
import { provisionSsoUser, type SsoClaims } from './sso-provisioning.ts';

/** PKCE verifier, state and nonce live in a signed cookie for the ten minutes a sign-in may take. */
const PENDING_TTL_MS = 10 * 60_000;

interface PendingLogin {
  verifier: string;
  state: string;
  nonce: string;
  redirectUri: string;
}

/**
 * "Sign in with SSO": OpenID Connect authorization code flow with PKCE (openid-client), then
 * just-in-time provisioning and a normal Enclave session.
 */
export function createOidcService(deps: {
  settings: NonNullable<Config['oidc']>;
  db: Database;
  auth: Pick<AuthService, 'startSsoSession' | 'revokeAllCredentials'>;
  secret: string;
}) {
  const { settings } = deps;
  let discovered: Promise<oidc.Configuration> | undefined;

  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc
      .discovery(new URL(settings.issuer), settings.clientId, settings.clientSecret, undefined, {
        // Private deployments often run their identity provider on an internal http address.
        execute: settings.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      })
      .catch((error: unknown) => {
        discovered = undefined; // try again on the next sign-in
        throw new AppError(
          502,
          'sso_unavailable',
          `The identity provider could not be reached: ${(error as Error).message}`,
        );
      });
    return discovered;
  }

  return {
    /** The provider URL to send the browser to, and the signed cookie value that must come back. */
    async begin(redirectUri: string): Promise<{ url: string; pending: string }> {
      const config = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const pending: PendingLogin = { verifier, state: oidc.randomState(), nonce: oidc.randomNonce(), redirectUri };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url: url.href, pending: signValue(deps.secret, pending, PENDING_TTL_MS) };
    },

    /** Exchanges the code, reads the claims and signs the user in. */
    async complete(callbackUrl: URL, pendingCookie: string | undefined, client: ClientInfo) {
      const pending = verifySignedValue<PendingLogin>(deps.secret, pendingCookie);
      if (!pending)
        throw new AppError(
          400,
          'sso_state_missing',
          'The sign-in took too long or was started elsewhere; please try again',
        );
      const config = await configuration();
      let claims: SsoClaims;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims()!;
        // Providers that keep ID tokens lean put email and groups in userinfo.
        const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        claims = { ...idClaims, ...userinfo, sub: idClaims.sub };
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError(401, 'sso_failed', `Single sign-on failed: ${(error as Error).message}`);
      }
      const { user, roleChanged } = await provisionSsoUser(deps.db, claims, settings, client.ip);
      // A role the provider changed ends every earlier session, token and socket, as an admin's change does.
      if (roleChanged) await deps.auth.revokeAllCredentials(user.id);
      const { token } = await deps.auth.startSsoSession(user, client);
      return { token, user };
    },
  };
}

export type OidcService = ReturnType<typeof createOidcService>;
