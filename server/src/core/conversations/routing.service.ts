import type { Database, Queryable } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { Actor } from '../policy/actor.ts';
import { createAssignmentRepository } from './assignment.repository.ts';
import type { ConversationPublisher, Routed } from './conversation-publisher.ts';
import { createConversationRepository, type ConversationRow } from './conversation.repository.ts';
import { nextStatus, TransitionError, type Reason, type RoutingStatus, type TransitionType } from './routing.ts';

export interface RoutingDeps {
  db: Database;
  publisher: ConversationPublisher;
  /** 'auto': a conversation entering the queue goes to the least-loaded available agent. */
  assignmentMode: 'manual' | 'auto';
}

const conflictFrom = (error: TransitionError) => new AppError(409, 'invalid_transition', error.message);

/**
 * Moves conversations between the bot and the human team. Each transition is a compare-and-set
 * UPDATE plus a conversation event in one transaction; the conversation event goes out after commit.
 */
export function createRoutingService(deps: RoutingDeps) {
  const { db, publisher } = deps;

  async function apply(
    tx: Queryable,
    conversation: ConversationRow,
    type: TransitionType,
    input: {
      actorId: string | null;
      reason: Reason;
      assigneeId?: string | null;
      reopenTo?: RoutingStatus;
      details?: Record<string, unknown>;
    },
  ): Promise<Routed> {
    const conversations = createConversationRepository(tx);
    let to: RoutingStatus;
    try {
      to = nextStatus(type, conversation.status, input.reopenTo);
    } catch (error) {
      if (error instanceof TransitionError) throw conflictFrom(error);
      throw error;
    }
    if (type === 'handoff' && conversation.kind === 'bot' && conversation.team === null && conversation.bot_id) {
      // A bot names the team it hands off to (its handoff settings); automatic assignment matches it.
      await conversations.setTeamFromBot(conversation.id, conversation.bot_id);
    }
    const set =
      'assigneeId' in input ? { assigneeId: input.assigneeId ?? null, reason: input.reason } : { reason: input.reason };
    const updated = await conversations.transition(conversation.id, [conversation.status!], to, set);
    if (!updated) {
      // Someone else moved it first (two agents claiming at once): exactly one UPDATE matched.
      throw new AppError(
        409,
        type === 'claim' ? 'already_claimed' : 'invalid_transition',
        'The conversation changed meanwhile; reload it',
      );
    }
    await conversations.recordEvent({
      conversationId: conversation.id,
      type,
      from: conversation.status,
      to,
      actorId: input.actorId,
      reason: input.reason,
      details: input.details ?? {},
    });
    return { conversation: updated, transition: type, from: conversation.status!, reason: input.reason };
  }

  async function load(tx: Queryable, id: string): Promise<ConversationRow> {
    const conversation = await createConversationRepository(tx).findById(id);
    if (!conversation) throw notFound('Conversation');
    if (conversation.status === null)
      throw new AppError(409, 'invalid_transition', 'Direct and group chats are not routed');
    return conversation;
  }

  /**
   * The agents who handled it leave when it goes back to the bot or the team: a bot conversation is
   * private to its employee again, and a requeued one is the next agent's to claim.
   */
  async function releaseAgents(tx: Queryable, id: string): Promise<void> {
    await createConversationRepository(tx).removeAgents(id);
  }

  function assertHandler(actor: Actor, conversation: ConversationRow) {
    if (conversation.assignee_id !== actor.id && actor.role !== 'admin') {
      throw new AppError(403, 'forbidden', 'Only the assigned agent (or an admin) can do that');
    }
  }

  /** Tells of a transition once it has committed; the conversation as it now is. */
  async function announce(routed: Routed): Promise<ConversationRow> {
    await publisher.routed(routed);
    return routed.conversation;
  }

  /**
   * After a conversation enters the queue: hand it to an agent now if automatic assignment is on —
   * never straight back to `exceptAgentId`, the agent who just gave it back to the team.
   */

  async function afterQueued(conversation: ConversationRow, exceptAgentId?: string): Promise<ConversationRow> {
    if (deps.assignmentMode !== 'auto' || conversation.status !== 'queued') return conversation;
    return (await service.assignNext(conversation.id, exceptAgentId)) ?? conversation;
  }

  const service = {
    /** bot → queued. `actor` is null when the bot or a rule decides. */
    async handoff(actor: Actor | null, id: string, reason: Reason, details: Record<string, unknown> = {}) {
      const routed = await db.transaction(async (tx) =>
        apply(tx, await load(tx, id), 'handoff', { actorId: actor?.id ?? null, reason, details }),
      );
      return afterQueued(await announce(routed));
    },

    /** queued → assigned to the claiming agent, who joins the conversation. Exactly one of concurrent claims wins. */
    async claim(agent: Actor, id: string) {
      const routed = await db.transaction(async (tx) => {
        const row = await apply(tx, await load(tx, id), 'claim', {
          actorId: agent.id,
          reason: 'agent_claim',
          assigneeId: agent.id,
        });
        await createConversationRepository(tx).addMember(id, agent.id, 'agent');
        await createAssignmentRepository(tx).markAssigned(agent.id);
        return row;
      });
      return announce(routed);
    },

    /** To another agent (assigned → assigned) or, without one, back to the team queue. */
    async transfer(agent: Actor, id: string, target: { agentId?: string | undefined; team?: string | undefined }) {
      let previousAssignee: string | undefined;
      const routed = await db.transaction(async (tx) => {
        const conversations = createConversationRepository(tx);
        const conversation = await load(tx, id);
        assertHandler(agent, conversation);
        previousAssignee = conversation.assignee_id ?? undefined;
        if (target.team !== undefined) await conversations.setTeam(id, target.team);
        if (conversation.assignee_id) await conversations.removeAgents(id, conversation.assignee_id);
        if (!target.agentId) {
          return apply(tx, conversation, 'requeue', {
            actorId: agent.id,
            reason: 'agent_transfer',
            assigneeId: null,
            details: { team: target.team ?? conversation.team },
          });
        }
        const assignment = createAssignmentRepository(tx);
        if (!(await assignment.isActiveAgent(target.agentId)))
          throw new AppError(400, 'invalid_agent', 'Transfer target is not an active agent');
        const row = await apply(tx, conversation, 'transfer', {
          actorId: agent.id,
          reason: 'agent_transfer',
          assigneeId: target.agentId,
          details: { from: conversation.assignee_id, to: target.agentId },
        });
        await conversations.addMember(id, target.agentId, 'agent');
        await assignment.markAssigned(target.agentId);
        return row;
      });
      return afterQueued(await announce(routed), previousAssignee);
    },

    async resolve(agent: Actor, id: string) {
      const updated = await announce(
        await db.transaction(async (tx) => {
          const conversation = await load(tx, id);
          assertHandler(agent, conversation);
          return apply(tx, conversation, 'resolve', { actorId: agent.id, reason: 'agent_resolved' });
        }),
      );
      if (deps.assignmentMode === 'auto') await service.assignWaiting();
      return updated;
    },

    async returnToBot(agent: Actor, id: string) {
      const routed = await db.transaction(async (tx) => {
        const conversation = await load(tx, id);
        assertHandler(agent, conversation);
        if (conversation.kind !== 'bot')
          throw new AppError(409, 'invalid_transition', 'Only bot conversations can go back to the bot');
        const row = await apply(tx, conversation, 'return_to_bot', {
          actorId: agent.id,
          reason: 'agent_returned',
          assigneeId: null,
        });
        await releaseAgents(tx, id);
        return row;
      });
      const updated = await announce(routed);
      if (deps.assignmentMode === 'auto') await service.assignWaiting();
      return updated;
    },

    /**
     * resolved → bot (bot conversations) or queued (support), when the employee writes again.
     * Inside the caller's transaction; the caller announces it (publisher.routed) after commit.
     */
    async reopen(tx: Queryable, conversation: ConversationRow, actorId: string) {
      const row = await apply(tx, conversation, 'reopen', {
        actorId,
        reason: 'new_message',
        assigneeId: null,
        reopenTo: conversation.kind === 'bot' ? 'bot' : 'queued',
      });
      await releaseAgents(tx, conversation.id);
      return row;
    },

    /** bot → queued inside the caller's transaction (the user's words asked for a person); announced like reopen. */
    handoffInTx(tx: Queryable, conversation: ConversationRow, actorId: string | null, reason: Reason) {
      return apply(tx, conversation, 'handoff', { actorId, reason });
    },

    afterQueued,

    /** Agents go away (no automatic assignments) and come back (and take what waits). */
    async setAvailable(agent: Actor, available: boolean): Promise<void> {
      await createAssignmentRepository(db).setAvailable(agent.id, available);
      if (available && deps.assignmentMode === 'auto') await service.assignWaiting();
    },

    /**
     * Automatic assignment of one queued conversation: the available agent with the fewest open
     * conversations below their capacity, matching the conversation's team when it names one;
     * round-robin among equals (least recently assigned first).
     */
    async assignNext(id: string, exceptAgentId?: string): Promise<ConversationRow | undefined> {
      const routed = await db.transaction(async (tx) => {
        const assignment = createAssignmentRepository(tx);
        await assignment.lock();
        const conversation = await createConversationRepository(tx).findById(id);
        if (!conversation || conversation.status !== 'queued') return undefined;
        const agentId = await assignment.pickAgent(conversation.team, exceptAgentId);
        if (!agentId) return undefined;
        const row = await apply(tx, conversation, 'claim', {
          actorId: null,
          reason: 'auto_assign',
          assigneeId: agentId,
          details: { assigneeId: agentId },
        });
        await createConversationRepository(tx).addMember(id, agentId, 'agent');
        await assignment.markAssigned(agentId);
        return row;
      });
      return routed && announce(routed);
    },

    /**
     * Offers queued conversations, in queue order, to agents with free capacity. One that nobody
     * can take (its team has no free agent) does not hold up the ones behind it.
     */
    async assignWaiting(limit = 200): Promise<void> {
      const waiting = await createConversationRepository(db).queue(limit);
      const stuckTeams = new Set<string | null>();
      for (const conversation of waiting) {
        if (stuckTeams.has(conversation.team)) continue;
        if (!(await service.assignNext(conversation.id))) {
          // Nobody free for this team; for "any team" that means nobody free at all.
          if (conversation.team === null) return;
          stuckTeams.add(conversation.team);
        }
      }
    },
  };
  return service;
}

export type RoutingService = ReturnType<typeof createRoutingService>;
