import type { Config } from '../../config.ts';
import { createBotRepository } from '../bots/bot.repository.ts';
import { handoffSettings, modelSettings } from '../bots/bot-settings.ts';
import { botHasModel } from '../bots/model-for-bot.ts';
import type { Database, Queryable } from '../db/database.ts';
import { AppError, notFound } from '../errors.ts';
import type { JobMap } from '../jobs/job-map.ts';
import type { Outbox, OutboxJob } from '../jobs/outbox.ts';
import type { Logger } from '../logger.ts';
import type { Actor } from '../policy/actor.ts';
import { createUserRepository } from '../users/user.repository.ts';
import { mayRequestHandoff } from '../policy/conversation-member.ts';
import { mayReadConversation, maySeeInternalNotes } from '../policy/policy.ts';
import { claimAttachments } from './attachment.service.ts';
import type { ConversationPublisher, Routed } from './conversation-publisher.ts';
import { presentConversation } from './conversation.presenter.ts';
import { createConversationRatingRepository } from './conversation-rating.repository.ts';
import { shortTitle } from './conversation-title.ts';
import { decideHandoff, type HandoffTrigger } from './handoff-policy.ts';
import { lexiconIntents } from './intent-lexicon.ts';
import {
  createConversationRepository,
  type ConversationKind,
  type ConversationRow,
  type MemberRow,
  type QueueCursor,
} from './conversation.repository.ts';
import { createMessageEditService } from './message-edit.service.ts';
import { citationsReadableBy } from './message-citations.ts';
import { createMessageRepository, type MessageRow } from './message.repository.ts';
import type { RoutingService } from './routing.service.ts';
import type { Reason } from './routing.ts';

export type NewConversation =
  | { kind: 'bot'; botId: string }
  | { kind: 'support'; team?: string | undefined }
  | { kind: 'direct'; userId: string }
  | { kind: 'group'; title: string; memberIds: string[] };

export interface NewMessage {
  body: string;
  clientId?: string | undefined;
  internal?: boolean | undefined;
  attachmentIds?: string[] | undefined;
}

export function createConversationService(deps: {
  db: Database;
  /** Which bots have a chat model: theirs read frustration and complaints in the bot's turn. */
  config: Pick<Config, 'chat'>;
  publisher: ConversationPublisher;
  routing: RoutingService;
  /** A user's message to the bot writes its `answer` job here, in the message's transaction. */
  outbox: Outbox<JobMap>;
  logger: Pick<Logger, 'warn'>;
}) {
  const { db, publisher, routing, outbox } = deps;

  /**
   * Telling members (the realtime bus) follows the commit: if it fails (Redis down), the message
   * stands — the request still succeeds and sockets catch up when they resume from history.
   */
  async function notifyAfterCommit(message: MessageRow, notify: () => Promise<void>): Promise<void> {
    await notify().catch((error: unknown) =>
      deps.logger.warn({ err: error, messageId: message.id }, 'message stored; telling its members failed'),
    );
  }

  /** The members, read once for the frame that follows; "not found" unless `userId` is one of them. */
  async function membersIncluding(id: string, userId: string): Promise<MemberRow[]> {
    const members = await createConversationRepository(db).members(id);
    if (!members.some((m) => m.user_id === userId)) throw notFound('Conversation');
    return members;
  }

  /**
   * The conversation if the actor may read it; otherwise "not found", so its existence is not revealed.
   * `lock`: inside a transaction, read it with its row lock (posting does).
   */
  async function readableIn(
    q: Queryable,
    actor: Actor,
    id: string,
    lock: boolean,
  ): Promise<{ conversation: ConversationRow; members: MemberRow[] }> {
    const found = await createConversationRepository(q).withMembers(id, lock);
    if (!found) throw notFound('Conversation');
    const { conversation, members } = found;
    const ok = mayReadConversation(actor, {
      memberIds: members.map((m) => m.user_id),
      status: conversation.status ?? 'none',
      kind: conversation.kind,
    });
    if (!ok) throw notFound('Conversation');
    return { conversation, members };
  }

  const readable = (actor: Actor, id: string) => readableIn(db, actor, id, false);

  /** What the handoff policy needs of the conversation's bot (the defaults when it has none). */
  async function botRouting(q: Queryable, conversation: ConversationRow) {
    const stored = conversation.bot_id
      ? await createBotRepository(q).routingSettingsOf(conversation.bot_id)
      : undefined;
    return {
      settings: handoffSettings(stored?.handoff),
      hasModel: botHasModel(deps.config, modelSettings(stored?.model)),
    };
  }

  /**
   * What a user's message to the bot is weighed for, before the bot answers. Offline, everything the
   * lexicon reads; with a model, only the words that ask for a person — the bot's turn asks the model
   * about frustration and complaints (bots/intent-classifier.ts), so no message is read twice.
   */
  function messageTrigger(body: string, bot: Awaited<ReturnType<typeof botRouting>>): HandoffTrigger {
    if (bot.hasModel) return { kind: 'user_message', body };
    return { kind: 'user_intent', intents: lexiconIntents(body, bot.settings.triggerWords) };
  }

  async function queueExtras(conversation: ConversationRow) {
    if (conversation.status !== 'queued') return {};
    const conversations = createConversationRepository(db);
    const queuePosition = await conversations.queuePosition(conversation.id);
    const median = await conversations.medianRecentWaitSeconds();
    return {
      queuePosition,
      estimatedWaitSeconds: median !== undefined && queuePosition ? Math.round(median * queuePosition) : undefined,
    };
  }

  return {
    readable,

    /** The full view of one conversation: members, and for queued ones the place in line and an estimate. */
    async view(id: string) {
      const found = await createConversationRepository(db).withMembers(id, false);
      if (!found) throw notFound('Conversation');
      return presentConversation(found.conversation, {
        members: found.members,
        ...(await queueExtras(found.conversation)),
      });
    },

    async create(actor: Actor, input: NewConversation): Promise<{ conversation: ConversationRow; created: boolean }> {
      if (input.kind === 'direct') {
        if (input.userId === actor.id) throw new AppError(400, 'invalid_input', 'A direct chat needs another person');
        const existing = await createConversationRepository(db).findDirect(actor.id, input.userId);
        if (existing) return { conversation: existing, created: false };
      }
      let existingDirect: ConversationRow | undefined;
      const conversation = await db.transaction(async (tx) => {
        const conversations = createConversationRepository(tx);
        const messages = createMessageRepository(tx);
        const activeUsers = (ids: string[]) => createUserRepository(tx).activeIds(ids);
        switch (input.kind) {
          case 'bot': {
            // A bot the user may not use is as absent as one that does not exist.
            const bot = await createBotRepository(tx).findUsableBy(input.botId, actor.id);
            if (!bot) throw new AppError(404, 'not_found', 'Bot not found');
            const row = await conversations.insert({ kind: 'bot', botId: bot.id, status: 'bot', createdBy: actor.id });
            await conversations.addMember(row.id, actor.id, 'owner');
            if (bot.greeting)
              await messages.insertBotMessage({
                conversationId: row.id,
                botId: bot.id,
                body: bot.greeting,
                status: 'complete',
              });
            return row;
          }
          case 'support': {
            const row = await conversations.insert({
              kind: 'support',
              status: 'queued',
              team: input.team ?? null,
              createdBy: actor.id,
              handoffReason: 'user_request',
            });
            await conversations.addMember(row.id, actor.id, 'owner');
            await conversations.recordEvent({
              conversationId: row.id,
              type: 'handoff',
              from: null,
              to: 'queued',
              actorId: actor.id,
              reason: 'user_request',
            });
            return row;
          }
          case 'direct': {
            if ((await activeUsers([input.userId])).length !== 1)
              throw new AppError(400, 'unknown_user', 'No such active user');
            // One chat per pair, even when both ask at once (or one double-clicks): the pair's lock,
            // then a second look, before creating it.
            const pair = [actor.id, input.userId].sort().join('|');
            await conversations.lockKey(`direct:${pair}`);
            existingDirect = await conversations.findDirect(actor.id, input.userId);
            if (existingDirect) return existingDirect;
            const row = await conversations.insert({ kind: 'direct', status: null, createdBy: actor.id });
            await conversations.addMember(row.id, actor.id, 'owner');
            await conversations.addMember(row.id, input.userId, 'member');
            return row;
          }
          case 'group': {
            const ids = [...new Set(input.memberIds.filter((id) => id !== actor.id))];
            const found = await activeUsers(ids);
            const missing = ids.filter((id) => !found.includes(id));
            if (missing.length)
              throw new AppError(400, 'unknown_user', `No such active user(s): ${missing.join(', ')}`);
            const row = await conversations.insert({
              kind: 'group',
              status: null,
              title: input.title,
              createdBy: actor.id,
            });
            await conversations.addMember(row.id, actor.id, 'owner');
            for (const id of ids) await conversations.addMember(row.id, id, 'member');
            return row;
          }
        }
      });
      if (existingDirect) return { conversation: existingDirect, created: false };
      await publisher.created(conversation);
      const routed = conversation.status === 'queued' ? await routing.afterQueued(conversation) : conversation;
      return { conversation: routed, created: true };
    },

    /** A user's conversations by last activity; the queue (`status: 'queued'`) in queue order instead. */
    async list(
      actor: Actor,
      filter: {
        status?: ConversationRow['status'] | undefined;
        assignee?: string | undefined;
        kind?: ConversationKind | undefined;
        before?: { at: string; id: string } | undefined;
        afterInQueue?: QueueCursor | undefined;
        limit: number;
      },
    ) {
      return createConversationRepository(db).list({
        userId: actor.id,
        asAgent: maySeeInternalNotes(actor),
        status: filter.status ?? undefined,
        assigneeId: filter.assignee === 'me' ? actor.id : filter.assignee,
        kind: filter.kind,
        before: filter.before,
        order: filter.status === 'queued' ? 'queue' : 'activity',
        afterInQueue: filter.afterInQueue,
        limit: filter.limit,
      });
    },

    async history(
      actor: Actor,
      id: string,
      page: { before?: number | undefined; after?: number | undefined; limit: number },
    ) {
      await readable(actor, id);
      const rows = await createMessageRepository(db).page(id, { ...page, includeInternal: maySeeInternalNotes(actor) });
      return citationsReadableBy(db, actor.id, rows);
    },

    /**
     * Stores a message (committed before returning), applies routing effects — reopening a
     * resolved conversation, a handoff when the user asks for a person — then notifies members
     * and, when the conversation is with its bot, the bot.
     */
    async post(actor: Actor, id: string, input: NewMessage): Promise<{ message: MessageRow; created: boolean }> {
      if (!input.internal && !input.attachmentIds?.length) {
        // A member's message in a group or direct chat needs none of the steps below: one statement
        // posts it (300 posts one after another on Postgres: p50 0.7 instead of 1.2 ms). Anything
        // it does not post — another kind of conversation, a non-member, a resend — goes the full way.
        const posted = await createMessageRepository(db).postToChat({
          conversationId: id,
          senderId: actor.id,
          body: input.body,
          clientId: input.clientId ?? null,
        });
        if (!posted) throw notFound('Conversation');
        if (posted.message) {
          const message = posted.message;
          await notifyAfterCommit(message, () => publisher.message('message.created', message, posted.members));
          return { message, created: true };
        }
      }
      const staff = maySeeInternalNotes(actor);
      let routingChange: Routed | undefined;
      let audience: MemberRow[] = [];
      // The bot's turn is an `answer` job in the outbox, committed with the message: a queue that is
      // down when the message commits delays the answer but cannot lose it.
      let botTurn: OutboxJob<JobMap> | undefined;
      const result = await db.transaction(async (tx) => {
        // The row lock comes first: posts to one conversation commit in id order, and the members
        // read under it are this message's audience (no second read after the commit).
        const { conversation, members } = await readableIn(tx, actor, id, true);
        const member = members.find((m) => m.user_id === actor.id);
        if (input.internal && !staff) throw new AppError(403, 'forbidden', 'Only agents can write internal notes');
        if (!member && !(staff && input.internal))
          throw new AppError(403, 'forbidden', 'Join the conversation before writing in it');
        const routed = conversation.kind === 'bot' || conversation.kind === 'support';
        const senderType = routed && staff && member?.role !== 'owner' ? 'agent' : 'user';
        audience = members;
        const conversations = createConversationRepository(tx);
        const stored = await createMessageRepository(tx).insertIdempotent({
          conversationId: id,
          senderType,
          senderId: actor.id,
          body: input.body,
          clientId: input.clientId ?? null,
          internal: input.internal ?? false,
          activity: {
            readerId: member ? actor.id : null,
            firstAgentResponse: senderType === 'agent' && !input.internal,
          },
        });
        if (stored.message.conversation_id !== id) {
          throw new AppError(
            409,
            'client_id_reused',
            'This clientId was already used for a message in another conversation',
          );
        }
        if (!stored.created) {
          // A resend (the client missed the first answer): an answer still waiting in the outbox,
          // e.g. for the queue to come back, is dispatched now; one queued or given is not repeated.
          if (conversation.kind === 'bot' && conversation.status === 'bot' && stored.message.sender_type === 'user')
            botTurn = { name: 'answer', payload: { messageId: stored.message.id } };
          return stored;
        }
        let message = stored.message;
        if (input.attachmentIds?.length) {
          const refs = await claimAttachments(tx, id, actor.id, input.attachmentIds, message.id);
          await createMessageRepository(tx).setAttachments(message.id, refs);
          message = { ...message, attachments: refs };
        }
        if (conversation.kind === 'bot' && senderType === 'user')
          await conversations.setTitleIfEmpty(id, shortTitle(input.body));
        if (routed && senderType === 'user' && member?.role === 'owner') {
          if (conversation.status === 'resolved') routingChange = await routing.reopen(tx, conversation, actor.id);
          else if (conversation.status === 'bot') {
            const bot = await botRouting(tx, conversation);
            const decision = decideHandoff(messageTrigger(input.body, bot), bot.settings);
            if (decision.action === 'start') {
              routingChange = await routing.handoffInTx(tx, conversation, actor.id, decision.reason);
            }
          }
        }
        // Still with its bot after this message (not handed off; a resolved one reopened to it). A file
        // sent without words asks the bot nothing (it does not read attachments): no answer is owed.
        const status = routingChange ? routingChange.conversation.status : conversation.status;
        if (conversation.kind === 'bot' && senderType === 'user' && status === 'bot' && input.body.trim() !== '') {
          botTurn = { name: 'answer', payload: { messageId: message.id } };
          await outbox.add(tx, [botTurn]);
        }
        return { message, created: true };
      });
      if (botTurn) outbox.dispatch([botTurn]);
      if (!result.created) return result;

      const change = routingChange;
      await notifyAfterCommit(result.message, () => publisher.message('message.created', result.message, audience));
      if (change) {
        await notifyAfterCommit(result.message, () => publisher.routed(change));
        // An automatic assignment commits before it is announced: the same holds for its announcement.
        await notifyAfterCommit(result.message, async () => void (await routing.afterQueued(change.conversation)));
      }
      return result;
    },

    /** A member asks for a person (the handoff button); clients may name the reason code. */
    async requestHandoff(actor: Actor, id: string, reason: Reason | undefined): Promise<ConversationRow> {
      const { conversation, members } = await readable(actor, id);
      if (
        !mayRequestHandoff(
          actor,
          members.map((m) => m.user_id),
        )
      ) {
        throw new AppError(403, 'forbidden', 'Only a member can ask for a person');
      }
      const { settings } = await botRouting(db, conversation);
      const decision = decideHandoff({ kind: 'user_request', reason }, settings);
      return decision.action === 'start' ? routing.handoff(actor, id, decision.reason) : conversation;
    },

    /**
     * A member stops the bot's answer under way: every process hears it (the bus), and the one
     * answering aborts its model request and keeps what was streamed, marked stopped.
     */
    async stopAnswer(actor: Actor, id: string): Promise<void> {
      const { conversation, members } = await readable(actor, id);
      if (!members.some((m) => m.user_id === actor.id))
        throw new AppError(403, 'forbidden', 'Only a member can stop the bot');
      if (conversation.kind === 'bot') await publisher.stopRequested(id);
    },

    /** A member rates a conversation a person resolved (1–5, with an optional comment); rating again changes it. */
    async rate(actor: Actor, id: string, input: { rating: number; comment?: string | undefined }) {
      const { conversation, members } = await readable(actor, id);
      // The employee rates the help they got; the agent who gave it does not.
      if (!members.some((m) => m.user_id === actor.id && m.role === 'owner'))
        throw new AppError(403, 'forbidden', 'Only the person who asked can rate');
      if (!conversation.resolved_at)
        throw new AppError(409, 'not_resolved', 'Only a conversation a person resolved can be rated');
      return createConversationRatingRepository(db).upsert({
        conversationId: id,
        userId: actor.id,
        rating: input.rating,
        comment: input.comment ?? '',
      });
    },

    /** The actor's own rating of the conversation, if they gave one. */
    async ratingOf(actor: Actor, id: string) {
      await readable(actor, id);
      return createConversationRatingRepository(db).find(id, actor.id);
    },

    /** The routing history (who moved it, when, why). */
    events(id: string) {
      return createConversationRepository(db).events(id);
    },

    async markRead(actor: Actor, id: string, messageId: number): Promise<void> {
      const conversations = createConversationRepository(db);
      const members = await membersIncluding(id, actor.id);
      if (await conversations.markRead(id, actor.id, messageId)) await publisher.read(id, actor.id, messageId, members);
    },

    /** `internal`: the typist is writing an internal note (only the staff among the members hear of it). */
    async typing(actor: Actor, id: string, internal = false): Promise<void> {
      await publisher.typing(id, actor.id, await membersIncluding(id, actor.id), internal);
    },

    ...createMessageEditService({ db, publisher, readable }),
  };
}

export type ConversationService = ReturnType<typeof createConversationService>;
