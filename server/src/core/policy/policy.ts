import type { Role } from '../users/user.repository.ts';
import type { Actor } from './actor.ts';

/**
 * Every "may this actor …" decision in one place. Routes declare the access level they need
 * (see http/secure-router.ts); services call these for decisions that depend on a resource.
 */
export type Access = 'public' | 'user' | 'agent' | 'admin';

const RANK: Record<Role, number> = { employee: 0, agent: 1, admin: 2 };

/** Admins can do what agents can; agents what employees can. */
export function hasAccess(actor: Actor | undefined, access: Access): boolean {
  if (access === 'public') return true;
  if (!actor) return false;
  if (access === 'user') return true;
  return RANK[actor.role] >= RANK[access];
}

/** Readers of a collection: everyone when it names no groups, else members of any named group (admins always). */
export function mayReadCollection(actor: Actor, collectionGroupIds: readonly string[]): boolean {
  if (actor.role === 'admin' || collectionGroupIds.length === 0) return true;
  return collectionGroupIds.some((g) => actor.groupIds.includes(g));
}

/** A document narrows its collection: the reader must pass both lists. */
export function mayReadDocument(
  actor: Actor,
  access: { collectionGroupIds: readonly string[]; documentGroupIds: readonly string[] },
): boolean {
  return mayReadCollection(actor, access.collectionGroupIds) && mayReadCollection(actor, access.documentGroupIds);
}

export function mayManageKnowledge(actor: Actor): boolean {
  return actor.role === 'admin';
}

export function mayManagePeople(actor: Actor): boolean {
  return actor.role === 'admin';
}

/**
 * Conversations: members read them; agents also read every support-queue conversation (queued,
 * assigned or resolved ones that reached the human team); admins read all.
 */
export function mayReadConversation(
  actor: Actor,
  conversation: { memberIds: readonly string[]; status: string; kind: string },
): boolean {
  if (conversation.memberIds.includes(actor.id)) return true;
  if (actor.role === 'admin') return true;
  return actor.role === 'agent' && (conversation.kind === 'support' || conversation.kind === 'bot') && conversation.status !== 'bot';
}

/** Internal notes are for the support team only. */
export function maySeeInternalNotes(actor: Actor): boolean {
  return actor.role === 'agent' || actor.role === 'admin';
}
