import type { Role } from '../users/user.repository.ts';

/** What a personal API token may be used for: `chat` is the OpenAI-compatible /v1, `api` the REST API and /ws. */
export const TOKEN_SCOPES = ['chat', 'api'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/**
 * Who is making a request, resolved once per request (or WebSocket) from a session or API token.
 * It holds no group list on purpose: a cached actor would outlive a membership change, so the read
 * rules take groups from the database (policy/read-rules.sql.ts).
 */
export interface Actor {
  id: string;
  email: string;
  name: string;
  role: Role;
  credential: { kind: 'session'; id: string } | { kind: 'personal-token'; id: string; scopes: readonly TokenScope[] };
}
