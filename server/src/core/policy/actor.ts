import type { Role } from '../users/user.repository.ts';

/** Who is making a request, resolved once per request (or WebSocket) from a session or API token. */
export interface Actor {
  id: string;
  email: string;
  name: string;
  role: Role;
  groupIds: string[];
  credential: { kind: 'session' | 'personal-token'; id: string };
}
