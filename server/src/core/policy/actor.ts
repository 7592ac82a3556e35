import type { Role } from '../users/user.repository.ts';

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
  credential: { kind: 'session' | 'personal-token'; id: string };
}
