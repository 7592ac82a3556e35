import { appendAudit } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { createGroupRepository } from '../users/group.repository.ts';
import { createUserRepository, type Role, type UserRow } from '../users/user.repository.ts';

export interface SsoMapping {
  groupsClaim: string;
  adminGroups: readonly string[];
  agentGroups: readonly string[];
}

export interface SsoClaims {
  sub: string;
  email?: unknown;
  email_verified?: unknown;
  name?: unknown;
  preferred_username?: unknown;
  [claim: string]: unknown;
}

/** The configured groups claim as a list of names (providers send an array or one string). */
export function claimGroups(claims: SsoClaims, claim: string): string[] {
  const raw = claims[claim];
  const values = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [];
  return [
    ...new Set(
      values
        .filter((v): v is string => typeof v === 'string')
        .map((v) => v.trim())
        .filter((v) => v && v.length <= 100),
    ),
  ];
}

/** Role from group claims: admin groups win over agent groups; with neither list configured, roles are managed in Enclave. */
export function mappedRole(groups: string[], mapping: SsoMapping): Role | undefined {
  if (!mapping.adminGroups.length && !mapping.agentGroups.length) return undefined;
  const has = (list: readonly string[]) => groups.some((g) => list.some((x) => x.toLowerCase() === g.toLowerCase()));
  if (has(mapping.adminGroups)) return 'admin';
  if (has(mapping.agentGroups)) return 'agent';
  return 'employee';
}

/**
 * Just-in-time provisioning, applied on every SSO login: find the user by subject (or link an
 * existing account by verified email), create one if needed, then apply the role mapping and
 * replace the memberships SSO gave last time with the groups the provider sends now (groups are
 * matched by name and created when new). Manually added memberships are left alone.
 */
export async function provisionSsoUser(
  db: Database,
  claims: SsoClaims,
  mapping: SsoMapping,
  ip: string,
): Promise<{ user: UserRow; roleChanged: boolean }> {
  const email = typeof claims.email === 'string' ? claims.email.trim() : '';
  if (!email || claims.email_verified === false) {
    throw new AppError(403, 'sso_email_missing', 'The identity provider did not send a verified email address');
  }
  const name = [claims.name, claims.preferred_username, email].find(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  )!;
  const groupNames = claimGroups(claims, mapping.groupsClaim);
  const role = mappedRole(groupNames, mapping);

  let roleChanged = false;
  const user = await db.transaction(async (tx) => {
    const users = createUserRepository(tx);
    const groups = createGroupRepository(tx);
    let user = (await users.findByExternalId(claims.sub)) ?? (await users.findByEmail(email));
    const actor = (u: UserRow) => ({ id: u.id, email: u.email });
    if (!user) {
      user = await users.insert({
        email,
        name: name.slice(0, 200),
        passwordHash: null,
        role: role ?? 'employee',
        externalId: claims.sub,
      });
      await appendAudit(tx, {
        action: 'user.created',
        actor: actor(user),
        target: { type: 'user', id: user.id },
        ip,
        details: { via: 'sso', role: user.role },
      });
    } else {
      if (user.external_id && user.external_id !== claims.sub) {
        throw new AppError(403, 'sso_account_conflict', 'This email belongs to a different single sign-on identity');
      }
      if (!user.external_id) await users.linkExternalId(user.id, claims.sub);
      if (role && role !== user.role) {
        await users.update(user.id, { role });
        await appendAudit(tx, {
          action: 'user.role.changed',
          actor: actor(user),
          target: { type: 'user', id: user.id },
          ip,
          details: { from: user.role, to: role, via: 'sso' },
        });
        user = { ...user, role };
        roleChanged = true;
      }
    }
    if (user.disabled) throw new AppError(403, 'account_disabled', 'This account is disabled');

    const known = await groups.findByNames(groupNames);
    const ids = known.map((g) => g.id);
    for (const missing of groupNames.filter((n) => !known.some((g) => g.name.toLowerCase() === n.toLowerCase()))) {
      const created = await groups.insert({ name: missing, description: 'Created from single sign-on' });
      await appendAudit(tx, {
        action: 'group.created',
        actor: actor(user),
        target: { type: 'group', id: created.id },
        ip,
        details: { name: missing, via: 'sso' },
      });
      ids.push(created.id);
    }
    const before = (await users.groupIds(user.id)).sort().join();
    await users.setGroups(user.id, ids, 'sso');
    const after = (await users.groupIds(user.id)).sort();
    if (before !== after.join()) {
      await appendAudit(tx, {
        action: 'user.groups.changed',
        actor: actor(user),
        target: { type: 'user', id: user.id },
        ip,
        details: { to: after, via: 'sso' },
      });
    }
    return user;
  });
  return { user, roleChanged };
}
