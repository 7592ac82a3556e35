import { createHmac, randomBytes } from 'node:crypto';

/** Browser/API sessions start with `ens_`, personal API tokens with `enp_`: recognisable in logs and secret scanners. */
export type TokenKind = 'session' | 'personal';

const PREFIX: Record<TokenKind, string> = { session: 'ens_', personal: 'enp_' };

export function generateToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

export function tokenKind(token: string): TokenKind | undefined {
  if (token.startsWith(PREFIX.session)) return 'session';
  if (token.startsWith(PREFIX.personal)) return 'personal';
  return undefined;
}

/** Only this keyed hash is stored: a leaked database does not yield usable tokens. */
export function hashToken(secret: string, token: string): string {
  return createHmac('sha256', secret).update(token).digest('hex');
}
