import type { Role } from '../users/user.repository.ts';
import type { Actor, TokenScope } from './actor.ts';

/**
 * Every "may this actor …" decision that TypeScript makes. Routes declare the access level they
 * need (see http/secure-router.ts); services call these for decisions that depend on a resource.
 * Who may read knowledge is decided inside the queries that read it: see read-rules.sql.ts.
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

/** A signed-in session may use everything its role allows; a personal token only its scopes. */
export function credentialAllows(actor: Actor, scope: TokenScope): boolean {
  return actor.credential.kind === 'session' || actor.credential.scopes.includes(scope);
}

/** Only a person signed in may make credentials: a leaked token must not be able to mint itself successors. */
export function mayMintTokens(actor: Actor): boolean {
  return actor.credential.kind === 'session';
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
  return (
    actor.role === 'agent' &&
    (conversation.kind === 'support' || conversation.kind === 'bot') &&
    conversation.status !== 'bot'
  );
}

/** Internal notes are for the support team only. */
export function maySeeInternalNotes(actor: Actor): boolean {
  return actor.role === 'agent' || actor.role === 'admin';
}
