import type { UserRow, UserWithGroups } from './user.repository.ts';

/** The public shape of a user: never the password hash or SSO subject. */
export function presentUser(user: UserRow | UserWithGroups) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabled,
    groups: 'groups' in user ? user.groups : undefined,
    skills: user.skills,
    capacity: user.capacity,
    sso: user.external_id !== null,
    createdAt: user.created_at.toISOString(),
    lastLoginAt: user.last_login_at?.toISOString() ?? null,
  };
}

export type PresentedUser = ReturnType<typeof presentUser>;
