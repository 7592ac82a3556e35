import type { Actor } from './actor.ts';

/**
 * Only the people in a conversation speak for it: an agent or admin who may read a conversation
 * they are not in (policy.ts, mayReadConversation) still cannot ask for a person on its behalf.
 */
export function mayRequestHandoff(actor: Actor, memberIds: readonly string[]): boolean {
  return memberIds.includes(actor.id);
}
