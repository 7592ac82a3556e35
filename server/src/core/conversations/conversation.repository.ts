import { prepared, type Queryable } from '../db/database.ts';
import type { Role } from '../users/user.repository.ts';
import type { Reason, RoutingStatus, TransitionType } from './routing.ts';

export type ConversationKind = 'bot' | 'support' | 'direct' | 'group';

export interface ConversationRow {
  id: string;
  kind: ConversationKind;
  bot_id: string | null;
  title: string;
  status: RoutingStatus | null;
  assignee_id: string | null;
  team: string | null;
  priority: number;
  handoff_reason: string | null;
  created_by: string | null;
  created_at: Date;
  last_message_at: Date;
  queued_at: Date | null;
  claimed_at: Date | null;
  first_response_at: Date | null;
  resolved_at: Date | null;
}

export interface MemberRow {
  user_id: string;
  name: string;
  role: 'owner' | 'member' | 'agent';
  user_role: Role;
  last_read_message_id: number;
}

export interface ConversationListRow extends ConversationRow {
  unread_count: number;
  last_read_message_id: number;
  /** last_message_at and queued_at as exact (microsecond) UTC text, for keyset cursors. */
  activity_key: string;
  queued_key: string | null;
}

/** A step in a conversation's history: a status change, a transfer, a handoff. */
export interface ConversationEventRow {
  id: number;
  type: string;
  from_status: string | null;
  to_status: string | null;
  actor_id: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  created_at: Date;
  /** Names at reading time, for a history people can read: who acted, and who it went to. */
  actor_name: string | null;
  assignee_name: string | null;
}

export interface ListFilter {
  userId: string;
  /** Include conversations the user only sees as an agent (the queue, or assigned to them). */
  asAgent: boolean;
  status?: RoutingStatus | undefined;
  assigneeId?: string | undefined;
  kind?: ConversationKind | undefined;
  /** Keyset cursor: the previous page's last row (`at`: its activity_key). */
  before?: { at: string; id: string } | undefined;
  /**
   * `queue`: the human queue's order — highest priority first, then longest waiting — for the
   * agents' queue view (`status=queued`); `activity` (default): most recent activity first.
   */
  order?: 'activity' | 'queue';
  /** Keyset cursor in queue order: the previous page's last row. */
  afterInQueue?: QueueCursor | undefined;
  limit: number;
}

export interface QueueCursor {
  priority: number;
  /** The row's queued_key. */
  queuedAt: string;
  id: string;
}

// Timestamps keep microseconds in the database but milliseconds in a JS Date: cursors carry this text.
const exactUtc = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Members in the order they are shown: by joining, the owner first among those who joined together. */
const MEMBER_ORDER = `m.joined_at, m.role <> 'owner', u.name, m.user_id`;

export const withMembersSql = (lock: boolean) => `SELECT c.*, COALESCE((
    SELECT json_agg(json_build_object('user_id', m.user_id, 'name', u.name, 'role', m.role, 'user_role', u.role,
             'last_read_message_id', m.last_read_message_id) ORDER BY ${MEMBER_ORDER})
      FROM conversation_members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id = c.id), '[]') AS members_json
    FROM conversations c WHERE c.id = $1${lock ? ' FOR UPDATE OF c' : ''}`;
// Every post and every read of a conversation runs one of these.
const WITH_MEMBERS = prepared(withMembersSql(false));
const WITH_MEMBERS_LOCKED = prepared(withMembersSql(true));

/** Read marks only move forward. $1 conversation, $2 user, $3 message id. */
const MARK_READ = `UPDATE conversation_members SET last_read_message_id = $3
  WHERE conversation_id = $1 AND user_id = $2 AND last_read_message_id < $3`;

export function createConversationRepository(db: Queryable) {
  return {
    async insert(c: {
      kind: ConversationKind;
      botId?: string | null;
      title?: string;
      status: RoutingStatus | null;
      team?: string | null;
      createdBy: string;
      handoffReason?: string | null;
    }): Promise<ConversationRow> {
      const { rows } = await db.query<ConversationRow>(
        `INSERT INTO conversations (kind, bot_id, title, status, team, created_by, handoff_reason, queued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $4 = 'queued' THEN now() END) RETURNING *`,
        [c.kind, c.botId ?? null, c.title ?? '', c.status, c.team ?? null, c.createdBy, c.handoffReason ?? null],
      );
      return rows[0]!;
    },
    async addMember(conversationId: string, userId: string, role: MemberRow['role']): Promise<void> {
      await db.query(
        `INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [conversationId, userId, role],
      );
    },
    async findById(id: string): Promise<ConversationRow | undefined> {
      const { rows } = await db.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [id]);
      return rows[0];
    },
    /**
     * The conversation with its members in one round trip (every post and read asks); `lock`: with
     * its row lock, inside a transaction. The members are those committed when the statement
     * began: a member added while the lock was awaited misses this one message live and reads it
     * with the history they load on joining.
     */
    async withMembers(
      id: string,
      lock: boolean,
    ): Promise<{ conversation: ConversationRow; members: MemberRow[] } | undefined> {
      const { rows } = await db.query<ConversationRow & { members_json: MemberRow[] }>(
        lock ? WITH_MEMBERS_LOCKED : WITH_MEMBERS,
        [id],
      );
      if (!rows[0]) return undefined;
      const { members_json: members, ...conversation } = rows[0];
      return { conversation, members };
    },
    async members(conversationId: string): Promise<MemberRow[]> {
      const { rows } = await db.query<MemberRow>(
        `SELECT m.user_id, u.name, m.role, u.role AS user_role, m.last_read_message_id
           FROM conversation_members m JOIN users u ON u.id = m.user_id
          WHERE m.conversation_id = $1 ORDER BY ${MEMBER_ORDER}`,
        [conversationId],
      );
      return rows;
    },
    async findDirect(a: string, b: string): Promise<ConversationRow | undefined> {
      const { rows } = await db.query<ConversationRow>(
        `SELECT c.* FROM conversations c
          WHERE c.kind = 'direct'
            AND EXISTS (SELECT 1 FROM conversation_members m WHERE m.conversation_id = c.id AND m.user_id = $1)
            AND EXISTS (SELECT 1 FROM conversation_members m WHERE m.conversation_id = c.id AND m.user_id = $2)
          LIMIT 1`,
        [a, b],
      );
      return rows[0];
    },
    /** A user's conversations by last activity, each with its unread count (agents: internal notes count too). */
    async list(filter: ListFilter): Promise<ConversationListRow[]> {
      const params: unknown[] = [filter.userId, filter.asAgent];
      const where: string[] = [];
      const visible = `(m.user_id IS NOT NULL OR ($2 AND c.kind IN ('bot', 'support') AND c.status IN ('queued', 'assigned', 'resolved')))`;
      where.push(visible);
      if (filter.status) {
        params.push(filter.status);
        where.push(`c.status = $${params.length}`);
      }
      if (filter.assigneeId) {
        params.push(filter.assigneeId);
        where.push(`c.assignee_id = $${params.length}`);
      }
      if (filter.kind) {
        params.push(filter.kind);
        where.push(`c.kind = $${params.length}`);
      }
      const queueOrder = filter.order === 'queue';
      if (filter.before && !queueOrder) {
        params.push(filter.before.at, filter.before.id);
        where.push(`(c.last_message_at, c.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
      }
      if (filter.afterInQueue && queueOrder) {
        const { priority, queuedAt, id } = filter.afterInQueue;
        params.push(priority, queuedAt, id);
        const [p, q, i] = [params.length - 2, params.length - 1, params.length].map((n) => `$${n}`);
        where.push(
          `(c.priority < ${p}::int OR (c.priority = ${p}::int AND (c.queued_at, c.id) > (${q}::timestamptz, ${i}::uuid)))`,
        );
      }
      params.push(filter.limit);
      const orderBy = queueOrder ? 'c.priority DESC, c.queued_at ASC, c.id ASC' : 'c.last_message_at DESC, c.id DESC';
      const { rows } = await db.query<ConversationListRow>(
        `SELECT c.*, COALESCE(m.last_read_message_id, 0) AS last_read_message_id,
                ${exactUtc('c.last_message_at')} AS activity_key, ${exactUtc('c.queued_at')} AS queued_key,
                (SELECT count(*)::int FROM messages x
                  WHERE x.conversation_id = c.id AND x.id > COALESCE(m.last_read_message_id, 0)
                    AND x.sender_id IS DISTINCT FROM $1 AND x.deleted_at IS NULL AND ($2 OR NOT x.internal)) AS unread_count
           FROM conversations c
           LEFT JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = $1
          WHERE ${where.join(' AND ')}
          ORDER BY ${orderBy}
          LIMIT $${params.length}`,
        params,
      );
      return rows;
    },
    /** The human queue: highest priority first, then longest waiting. */
    async queue(limit: number): Promise<ConversationRow[]> {
      const { rows } = await db.query<ConversationRow>(
        `SELECT * FROM conversations WHERE status = 'queued' ORDER BY priority DESC, queued_at ASC LIMIT $1`,
        [limit],
      );
      return rows;
    },
    /** The first `limit` queued conversations with their place in line (same rule as queuePosition). */
    async queueWithPositions(limit: number): Promise<(ConversationRow & { position: number })[]> {
      const { rows } = await db.query<ConversationRow & { position: number }>(
        `SELECT c.*, (count(*) OVER (ORDER BY c.priority DESC, c.queued_at ASC))::int AS position
           FROM conversations c WHERE c.status = 'queued'
          ORDER BY c.priority DESC, c.queued_at ASC LIMIT $1`,
        [limit],
      );
      return rows;
    },
    /** Members of several conversations at once. */
    async membersOf(conversationIds: string[]): Promise<(MemberRow & { conversation_id: string })[]> {
      const { rows } = await db.query<MemberRow & { conversation_id: string }>(
        `SELECT m.conversation_id, m.user_id, u.name, m.role, u.role AS user_role, m.last_read_message_id
           FROM conversation_members m JOIN users u ON u.id = m.user_id
          WHERE m.conversation_id = ANY($1::uuid[]) ORDER BY m.joined_at, m.role <> 'owner', u.name, m.user_id`,
        [conversationIds],
      );
      return rows;
    },
    /** 1-based place in the queue; undefined when not queued. */
    async queuePosition(id: string): Promise<number | undefined> {
      const { rows } = await db.query<{ position: number }>(
        `SELECT (SELECT count(*)::int FROM conversations o
                  WHERE o.status = 'queued'
                    AND (o.priority > c.priority OR (o.priority = c.priority AND o.queued_at <= c.queued_at))) AS position
           FROM conversations c WHERE c.id = $1 AND c.status = 'queued'`,
        [id],
      );
      return rows[0]?.position;
    },
    /** Median wait of the last 50 claims, seconds; undefined before any. */
    async medianRecentWaitSeconds(): Promise<number | undefined> {
      const { rows } = await db.query<{ median: number | null }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w) AS median FROM (
           SELECT extract(epoch FROM claimed_at - queued_at) AS w FROM conversations
            WHERE claimed_at IS NOT NULL AND queued_at IS NOT NULL AND claimed_at >= queued_at
            ORDER BY claimed_at DESC LIMIT 50) recent`,
      );
      return rows[0]?.median ?? undefined;
    },
    /**
     * Moves a conversation between routing states only if it is still in one of `from` (compare and
     * set): of two agents claiming at once, exactly one UPDATE matches.
     */
    async transition(
      id: string,
      from: RoutingStatus[],
      to: RoutingStatus,
      set: { assigneeId?: string | null; reason?: Reason },
      expectedAssignee?: string,
    ): Promise<ConversationRow | undefined> {
      const { rows } = await db.query<ConversationRow>(
        `UPDATE conversations SET
           status = $3,
           assignee_id = CASE WHEN $4::boolean THEN $5::uuid ELSE assignee_id END,
           handoff_reason = CASE WHEN $3 = 'queued' THEN $6 ELSE handoff_reason END,
           queued_at = CASE WHEN $3 = 'queued' AND status <> 'queued' THEN now() ELSE queued_at END,
           claimed_at = CASE WHEN $3 = 'assigned' AND status = 'queued' THEN now() ELSE claimed_at END,
           -- a new handoff episode (from the bot, or reopened) measures its first response afresh
           first_response_at = CASE WHEN $3 = 'queued' AND status IN ('bot', 'resolved') THEN NULL ELSE first_response_at END,
           resolved_at = CASE WHEN $3 = 'resolved' THEN now() END
         WHERE id = $1 AND status = ANY($2::text[]) AND ($7::uuid IS NULL OR assignee_id = $7::uuid)
         RETURNING *`,
        [id, from, to, 'assigneeId' in set, set.assigneeId ?? null, set.reason ?? null, expectedAssignee ?? null],
      );
      return rows[0];
    },
    async recordEvent(e: {
      conversationId: string;
      type: TransitionType;
      from: RoutingStatus | null;
      to: RoutingStatus | null;
      actorId: string | null;
      reason: Reason;
      details?: Record<string, unknown>;
    }): Promise<void> {
      await db.query(
        `INSERT INTO conversation_events (conversation_id, type, from_status, to_status, actor_id, reason, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [e.conversationId, e.type, e.from, e.to, e.actorId, e.reason, JSON.stringify(e.details ?? {})],
      );
    },
    async events(conversationId: string) {
      const { rows } = await db.query<ConversationEventRow>(
        `SELECT e.*, actor.name AS actor_name, assignee.name AS assignee_name
           FROM conversation_events e
           LEFT JOIN users actor ON actor.id = e.actor_id
           -- transfers name their target, automatic claims their agent; an agent's claim is their own
           LEFT JOIN users assignee ON assignee.id::text = COALESCE(
             e.details ->> 'to', e.details ->> 'assigneeId', CASE WHEN e.type = 'claim' THEN e.actor_id::text END)
          WHERE e.conversation_id = $1 ORDER BY e.id`,
        [conversationId],
      );
      return rows;
    },
    async setTitleIfEmpty(id: string, title: string): Promise<boolean> {
      const { rowCount } = await db.query(`UPDATE conversations SET title = $2 WHERE id = $1 AND title = ''`, [
        id,
        title,
      ]);
      return rowCount > 0;
    },
    /** A model-written title replaces the question's, once; undefined when it already had one. */
    async setModelTitle(id: string, title: string): Promise<ConversationRow | undefined> {
      const { rows } = await db.query<ConversationRow>(
        `UPDATE conversations SET title = $2, title_source = 'model' WHERE id = $1 AND title_source <> 'model'
         RETURNING *`,
        [id, title],
      );
      return rows[0];
    },
    async markRead(conversationId: string, userId: string, messageId: number): Promise<boolean> {
      const { rowCount } = await db.query(MARK_READ, [conversationId, userId, messageId]);
      return rowCount > 0;
    },
    /** One creator at a time per key until the transaction ends (two people opening the same direct chat). */
    async lockKey(key: string): Promise<void> {
      await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
    },
    async setTeam(id: string, team: string): Promise<void> {
      await db.query('UPDATE conversations SET team = $2 WHERE id = $1', [id, team]);
    },
    /** The team a bot's handoff settings name, for a conversation that names none yet. */
    async setTeamFromBot(id: string, botId: string): Promise<void> {
      await db.query(
        `UPDATE conversations SET team = (SELECT NULLIF(btrim(handoff ->> 'team'), '') FROM bots WHERE id = $2)
          WHERE id = $1 AND team IS NULL`,
        [id, botId],
      );
    },
    /** Without `userId`: every agent member. */
    async removeAgents(conversationId: string, userId?: string): Promise<void> {
      await db.query(
        `DELETE FROM conversation_members
          WHERE conversation_id = $1 AND role = 'agent' AND ($2::uuid IS NULL OR user_id = $2)`,
        [conversationId, userId ?? null],
      );
    },
    async isMember(conversationId: string, userId: string): Promise<boolean> {
      const { rows } = await db.query(
        'SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2',
        [conversationId, userId],
      );
      return rows.length > 0;
    },
  };
}

export type ConversationRepository = ReturnType<typeof createConversationRepository>;
