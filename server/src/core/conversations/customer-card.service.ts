import type { Queryable } from '../db/database.ts';
import { notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { mayReadConversation } from '../policy/policy.ts';
import { createCustomerCardRepository } from './customer-card.repository.ts';

// Enough to recognise a returning employee; the card is not a history browser.
const EARLIER_LIMIT = 10;

/**
 * The customer card beside a conversation: who the employee is (name, email, groups) and their
 * earlier conversations the agent may open. The caller has checked the agent may read this one.
 */
export function createCustomerCardService(deps: { db: Queryable }) {
  const repo = createCustomerCardRepository(deps.db);
  return {
    async of(actor: Actor, conversationId: string) {
      const customer = await repo.customerOf(conversationId);
      if (!customer) throw notFound('Customer');
      const [groups, earlier] = await Promise.all([
        repo.groupsOf(customer.id),
        // Read more than shown: some may be private to the employee (still with the bot).
        repo.earlierConversations(customer.id, conversationId, actor.id, EARLIER_LIMIT * 3),
      ]);
      const openable = earlier.filter((c) =>
        mayReadConversation(actor, { memberIds: c.viewer_is_member ? [actor.id] : [], status: c.status, kind: c.kind }),
      );
      return { customer, groups, earlier: openable.slice(0, EARLIER_LIMIT) };
    },
  };
}

export type CustomerCardService = ReturnType<typeof createCustomerCardService>;
export type CustomerCard = Awaited<ReturnType<CustomerCardService['of']>>;
