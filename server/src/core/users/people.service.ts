import type { Queryable } from '../db/database.ts';
import { notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { createPeopleRepository } from './people.repository.ts';

/** The directories for starting chats and transfers: colleagues for everyone, agents for the support team. */
export function createPeopleService(deps: { db: Queryable }) {
  const people = createPeopleRepository(deps.db);
  return {
    /** Active people other than the actor, by name, optionally matching `search` in name or email. */
    colleagues(actor: Actor, search: string | undefined, limit: number) {
      return people.colleagues(actor.id, search, limit);
    },
    /** Agents and admins with their availability and current load. */
    agents() {
      return people.agents();
    },
    /** The actor as the agent list shows them: whether automatic assignment counts them in. */
    async me(actor: Actor) {
      const row = await people.agent(actor.id);
      if (!row) throw notFound('Agent');
      return row;
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
