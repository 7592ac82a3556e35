import { appendAudit } from '../audit/audit.service.ts';
import type { AuthService, ClientInfo } from '../auth/auth.service.ts';
import { hashPassword } from '../crypto/password.ts';
import type { Database, Queryable } from '../db/database.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { createGroupDependentsRepository, type GroupDependents } from './group-dependents.repository.ts';
import { createGroupRepository } from './group.repository.ts';
import { passwordProblem } from './password-policy.ts';
import { createUserRepository, type Role, type UserWithGroups } from './user.repository.ts';

export interface NewUser {
  email: string;
  name: string;
  password: string;
  role: Role;
  groups?: string[] | undefined;
  skills?: string[] | undefined;
  capacity?: number | undefined;
}

export interface UserChanges {
  name?: string | undefined;
  email?: string | undefined;
  role?: Role | undefined;
  disabled?: boolean | undefined;
  password?: string | undefined;
  groups?: string[] | undefined;
  skills?: string[] | undefined;
  capacity?: number | undefined;
}

function weakPassword(message: string) {
  return new AppError(400, 'weak_password', message);
}

async function assertGroupsExist(tx: Queryable, ids: string[]) {
  const found = await createGroupRepository(tx).existing(ids);
  const missing = ids.filter((id) => !found.includes(id));
  if (missing.length) throw new AppError(400, 'unknown_group', `Unknown group id(s): ${missing.join(', ')}`);
}

/** UUIDs are case-insensitive and a list may repeat one: compare and store them in Postgres' own form. */
function normalizeIds(ids: string[] | undefined): string[] | undefined {
  return ids && [...new Set(ids.map((id) => id.toLowerCase()))];
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23505';
}

/**
 * People and departments, as admins manage them. Every change is audited in the same
 * transaction; changes that end access (disable, password reset, demotion) revoke sessions.
 */
export function createUserService(deps: {
  db: Database;
  auth: Pick<AuthService, 'revokeAllCredentialsIn' | 'usersChanged'>;
}) {
  const { db, auth } = deps;

  async function lastAdminGuard(tx: Queryable, target: UserWithGroups, changes: UserChanges) {
    const losesAdmin =
      target.role === 'admin' &&
      !target.disabled &&
      (changes.disabled === true || (changes.role && changes.role !== 'admin'));
    if (!losesAdmin) return;
    const users = createUserRepository(tx);
    await users.lockAdminSet();
    if ((await users.countActiveAdmins()) <= 1) {
      throw conflict('This is the last active admin; make someone else admin first');
    }
  }

  return {
    async create(actor: Actor, rawInput: NewUser, client: ClientInfo): Promise<UserWithGroups> {
      const input = { ...rawInput, groups: normalizeIds(rawInput.groups) };
      const problem = passwordProblem(input.password, input.email);
      if (problem) throw weakPassword(problem);
      const passwordHash = await hashPassword(input.password);
      try {
        return await db.transaction(async (tx) => {
          const users = createUserRepository(tx);
          if (input.groups?.length) await assertGroupsExist(tx, input.groups);
          const user = await users.insert({ ...input, passwordHash });
          if (input.groups?.length) await users.setGroups(user.id, input.groups, 'manual');
          await appendAudit(tx, {
            action: 'user.created',
            actor,
            target: { type: 'user', id: user.id },
            ip: client.ip,
            details: { email: user.email, role: user.role, groups: input.groups ?? [] },
          });
          return (await users.findById(user.id))!;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('A user with this email already exists');
        throw error;
      }
    },

    async get(id: string): Promise<UserWithGroups> {
      const user = await createUserRepository(db).findById(id);
      if (!user) throw notFound('User');
      return user;
    },

    list(filter: { query?: string | undefined; role?: Role | undefined; after?: string | undefined; limit: number }) {
      return createUserRepository(db).list(filter);
    },

    async update(actor: Actor, id: string, rawChanges: UserChanges, client: ClientInfo): Promise<UserWithGroups> {
      const changes = { ...rawChanges, groups: normalizeIds(rawChanges.groups) };
      if (id === actor.id && (changes.disabled === true || (changes.role && changes.role !== actor.role))) {
        throw new AppError(409, 'conflict', 'You cannot disable yourself or change your own role');
      }
      let passwordHash: string | undefined;
      if (changes.password !== undefined) {
        const current = await this.get(id);
        const problem = passwordProblem(changes.password, changes.email ?? current.email);
        if (problem) throw weakPassword(problem);
        passwordHash = await hashPassword(changes.password);
      }
      let announceRevoked: (() => Promise<void>) | undefined;
      try {
        const updated = await db.transaction(async (tx) => {
          const users = createUserRepository(tx);
          const before = await users.findById(id);
          if (!before) throw notFound('User');
          await lastAdminGuard(tx, before, changes);
          if (changes.groups) await assertGroupsExist(tx, changes.groups);
          await users.update(id, {
            name: changes.name,
            email: changes.email,
            role: changes.role,
            disabled: changes.disabled,
            passwordHash,
            skills: changes.skills,
            capacity: changes.capacity,
          });
          if (changes.groups) await users.setGroups(id, changes.groups, 'manual');
          const after = (await users.findById(id))!;
          const diff = describeChanges(before, after, passwordHash !== undefined);
          // A role change either way ends access too: whoever holds a credential minted under the old
          // role (a copied session, a forgotten token) must not carry it into the new one.
          const endsAccess =
            (after.disabled && !before.disabled) || passwordHash !== undefined || after.role !== before.role;
          if (endsAccess) announceRevoked = await auth.revokeAllCredentialsIn(tx, id);
          for (const [action, details] of diff) {
            await appendAudit(tx, { action, actor, target: { type: 'user', id }, ip: client.ip, details });
          }
          return after;
        });
        if (announceRevoked) await announceRevoked();
        else await auth.usersChanged([id]);
        return updated;
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('A user with this email already exists');
        throw error;
      }
    },

    async createGroup(actor: Actor, input: { name: string; description?: string | undefined }, client: ClientInfo) {
      try {
        return await db.transaction(async (tx) => {
          const group = await createGroupRepository(tx).insert({
            name: input.name,
            description: input.description ?? '',
          });
          await appendAudit(tx, {
            action: 'group.created',
            actor,
            target: { type: 'group', id: group.id },
            ip: client.ip,
            details: { name: group.name },
          });
          return group;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('A group with this name already exists');
        throw error;
      }
    },

    async getGroup(id: string) {
      const group = await createGroupRepository(db).findById(id);
      if (!group) throw notFound('Group');
      return group;
    },

    listGroups(filter: { query?: string | undefined; after?: string | undefined; limit: number }) {
      return createGroupRepository(db).list(filter);
    },

    async updateGroup(
      actor: Actor,
      id: string,
      patch: { name?: string | undefined; description?: string | undefined },
      client: ClientInfo,
    ) {
      try {
        return await db.transaction(async (tx) => {
          const groups = createGroupRepository(tx);
          const before = await groups.findById(id);
          if (!before) throw notFound('Group');
          const after = (await groups.update(id, patch))!;
          await appendAudit(tx, {
            action: 'group.updated',
            actor,
            target: { type: 'group', id },
            ip: client.ip,
            details: {
              from: { name: before.name, description: before.description },
              to: { name: after.name, description: after.description },
            },
          });
          return after;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict('A group with this name already exists');
        throw error;
      }
    },

    /**
     * Deletes a group. One that grants access to collections or documents (and so to bots) is kept,
     * with a 409 naming them, unless the admin chose `restrict-to-admins`: the group's rows go, and
     * what it alone opened is read by admins only (never by everyone: readers are stored explicitly).
     */
    async deleteGroup(
      actor: Actor,
      id: string,
      onDependents: 'refuse' | 'restrict-to-admins',
      client: ClientInfo,
    ): Promise<void> {
      const members = await db.transaction(async (tx) => {
        const groups = createGroupRepository(tx);
        const group = await groups.findById(id);
        if (!group) throw notFound('Group');
        const dependents = await createGroupDependentsRepository(tx).dependents(id);
        const inUse = dependents.collections.length + dependents.documents.length > 0;
        if (inUse && onDependents === 'refuse') {
          throw new AppError(
            409,
            'group_in_use',
            `"${group.name}" decides who reads ${describeDependents(dependents)}. ` +
              'Remove it there first, or delete it with onDependents=restrict-to-admins (then only admins read what only this group could).',
            dependents,
          );
        }
        const memberIds = (await groups.members(id)).map((m) => m.id);
        await groups.delete(id);
        await appendAudit(tx, {
          action: 'group.deleted',
          actor,
          target: { type: 'group', id },
          ip: client.ip,
          details: { name: group.name, ...(inUse ? { onDependents, dependents } : {}) },
        });
        return memberIds;
      });
      await auth.usersChanged(members);
    },

    groupMembers(id: string) {
      return createGroupRepository(db).members(id);
    },

    async setMembership(
      actor: Actor,
      groupId: string,
      userId: string,
      member: boolean,
      client: ClientInfo,
    ): Promise<void> {
      await db.transaction(async (tx) => {
        const groups = createGroupRepository(tx);
        if (!(await groups.findById(groupId))) throw notFound('Group');
        if (!(await createUserRepository(tx).findById(userId))) throw notFound('User');
        if (member) await groups.addMember(groupId, userId);
        else if (!(await groups.removeMember(groupId, userId))) throw notFound('Membership');
        await appendAudit(tx, {
          action: member ? 'group.member.added' : 'group.member.removed',
          actor,
          target: { type: 'group', id: groupId },
          ip: client.ip,
          details: { userId },
        });
      });
      await auth.usersChanged([userId]);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;

/** One audit action per kind of change, so the log can be filtered by what happened. */
function describeChanges(
  before: UserWithGroups,
  after: UserWithGroups,
  passwordReset: boolean,
): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  if (before.role !== after.role) out.push(['user.role.changed', { from: before.role, to: after.role }]);
  if (before.disabled !== after.disabled) out.push([after.disabled ? 'user.disabled' : 'user.enabled', {}]);
  if (passwordReset) out.push(['user.password.reset', {}]);
  const beforeGroups = before.groups.map((g) => g.id).sort();
  const afterGroups = after.groups.map((g) => g.id).sort();
  if (beforeGroups.join() !== afterGroups.join())
    out.push(['user.groups.changed', { from: beforeGroups, to: afterGroups }]);
  const profile: Record<string, unknown> = {};
  if (before.name !== after.name) profile.name = { from: before.name, to: after.name };
  if (before.email !== after.email) profile.email = { from: before.email, to: after.email };
  if (before.skills.join() !== after.skills.join()) profile.skills = { from: before.skills, to: after.skills };
  if (before.capacity !== after.capacity) profile.capacity = { from: before.capacity, to: after.capacity };
  if (Object.keys(profile).length) out.push(['user.updated', profile]);
  return out;
}

function describeDependents(d: GroupDependents): string {
  const named = (kind: string, names: string[]) =>
    names.length
      ? [
          `${names.length} ${kind}${names.length > 1 ? 's' : ''} (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`,
        ]
      : [];
  return [
    ...named(
      'collection',
      d.collections.map((c) => c.name),
    ),
    ...named(
      'document',
      d.documents.map((x) => x.title),
    ),
    ...named(
      'bot',
      d.bots.map((b) => b.name),
    ),
  ].join(', ');
}
