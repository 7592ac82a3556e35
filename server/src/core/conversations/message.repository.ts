import { prepared, type Queryable } from '../db/database.ts';
import { withMembersSql, type MemberRow } from './conversation.repository.ts';

export type SenderType = 'user' | 'bot' | 'agent' | 'system';

export interface AttachmentRef {
  id: string;
  filename: string;
  mime: string;
  size: number;
}

export interface MessageRow {
  id: number;
  conversation_id: string;
  sender_type: SenderType;
  sender_id: string | null;
  sender_name: string | null;
  body: string;
  citations: unknown[];
  attachments: AttachmentRef[];
  status: 'streaming' | 'complete' | 'failed';
  client_id: string | null;
  internal: boolean;
  created_at: Date;
  edited_at: Date | null;
  deleted_at: Date | null;
  /** The number of the message's latest change: its id when new, then a fresh number per change (migration 014). */
  updated_seq: number;
  /** Bot messages: outcome, the question answered, confidence, whether a person was offered. */
  meta: Record<string, unknown>;
}

/** Message rows from `source` (the table, or a CTE of just-written rows) with their sender's name. */
const selectFrom = (source: string) => `SELECT m.*, COALESCE(u.name, b.name) AS sender_name
  FROM ${source} m
  LEFT JOIN users u ON m.sender_type IN ('user', 'agent') AND u.id = m.sender_id
  LEFT JOIN bots b ON m.sender_type = 'bot' AND b.id = m.sender_id`;

const SELECT = selectFrom('messages');

/** A bot draft discarded mid-stream (see discardStreaming): kept only to tell sockets it is gone. */
const DISCARDED = `(m.meta ? 'discarded')`;

/** A CTE after `inserted`: the sender (the parameter `reader`) has read their own new message. */
const senderRead = (reader: string) => `sender_read AS (
    UPDATE conversation_members cm SET last_read_message_id = i.id FROM inserted i
     WHERE cm.conversation_id = i.conversation_id AND cm.user_id = ${reader} AND cm.last_read_message_id < i.id)`;

/** Posting a message: the insert, the sender's read mark and the conversation's activity (see insertIdempotent). */
const INSERT_MESSAGE = prepared(`WITH inserted AS (
    INSERT INTO messages (conversation_id, sender_type, sender_id, body, client_id, internal, attachments, status, citations)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING *),
  ${senderRead('$10')},
  activity AS (
    UPDATE conversations c SET last_message_at = now(),
      first_response_at = CASE WHEN $11 AND c.first_response_at IS NULL AND c.status = 'assigned' THEN now() ELSE c.first_response_at END
      FROM inserted i WHERE c.id = i.conversation_id)
  ${selectFrom('inserted')}`);

/**
 * A member's message in a group or direct chat as one statement (no transaction around it): the
 * conversation is locked and read with its members (the audience), the message inserted only if
 * it is such a chat and the sender a member, with the activity and read mark of INSERT_MESSAGE.
 * $1 conversation, $2 sender, $3 body, $4 clientId.
 */
const POST_TO_CHAT = prepared(`WITH c AS (${withMembersSql(true)}),
  inserted AS (
    INSERT INTO messages (conversation_id, sender_type, sender_id, body, client_id, internal, attachments, status, citations)
    SELECT c.id, 'user', $2, $3, $4, false, '[]', 'complete', '[]' FROM c
     WHERE c.kind IN ('group', 'direct')
       AND EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = c.id AND cm.user_id = $2)
    ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING *),
  ${senderRead('$2')},
  activity AS (
    UPDATE conversations c SET last_message_at = now() FROM inserted i WHERE c.id = i.conversation_id)
  SELECT s.*, c.members_json FROM c LEFT JOIN (${selectFrom('inserted')}) s ON true`);

export function createMessageRepository(db: Queryable) {
  return {
    /**
     * Inserts a message unless this sender already sent one with this clientId; either way returns
     * the stored message and whether it is new (a resend gets the original, not a copy). A new
     * message also records the conversation's activity in the same statement (posting is on every
     * chat's hot path: one round trip, not two): `last_message_at`, the first agent response, and
     * the sender's read mark moved to their own message (`readerId`, when they are a member).
     */
    async insertIdempotent(m: {
      conversationId: string;
      senderType: SenderType;
      senderId: string | null;
      body: string;
      clientId: string | null;
      internal: boolean;
      attachments?: AttachmentRef[];
      status?: MessageRow['status'];
      citations?: unknown[];
      activity: { readerId: string | null; firstAgentResponse: boolean };
    }): Promise<{ message: MessageRow; created: boolean }> {
      // The new row comes back with its sender's name in the same statement.
      const { rows } = await db.query<MessageRow>(INSERT_MESSAGE, [
        m.conversationId,
        m.senderType,
        m.senderId,
        m.body,
        m.clientId,
        m.internal,
        JSON.stringify(m.attachments ?? []),
        m.status ?? 'complete',
        JSON.stringify(m.citations ?? []),
        m.activity.readerId,
        m.activity.firstAgentResponse,
      ]);
      if (rows[0]) return { message: rows[0], created: true };
      const existing = await db.query<MessageRow>(`${SELECT} WHERE m.sender_id = $1 AND m.client_id = $2`, [
        m.senderId,
        m.clientId,
      ]);
      return { message: existing.rows[0]!, created: false };
    },
    /**
     * `insertIdempotent` for the commonest post — a member writing in a group or direct chat — in
     * one round trip instead of four (BEGIN, the locked read, the insert, COMMIT). Undefined: no
     * such conversation. `message` undefined: not posted — another kind of conversation, not a
     * member, or a clientId already used — which the full path then decides.
     */
    async postToChat(m: {
      conversationId: string;
      senderId: string;
      body: string;
      clientId: string | null;
    }): Promise<{ members: MemberRow[]; message: MessageRow | undefined } | undefined> {
      const { rows } = await db.query<MessageRow & { members_json: MemberRow[] }>(POST_TO_CHAT, [
        m.conversationId,
        m.senderId,
        m.body,
        m.clientId,
      ]);
      if (!rows[0]) return undefined;
      const { members_json: members, ...message } = rows[0];
      return { members, message: message.id === null ? undefined : message };
    },
    async findById(id: number): Promise<MessageRow | undefined> {
      const { rows } = await db.query<MessageRow>(`${SELECT} WHERE m.id = $1`, [id]);
      return rows[0];
    },
    /** The newest visible message `senderId` wrote in a conversation before message `before`. */
    async lastFrom(conversationId: string, senderId: string, before: number): Promise<MessageRow | undefined> {
      const { rows } = await db.query<MessageRow>(
        `${SELECT} WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.id < $3
            AND m.deleted_at IS NULL AND NOT m.internal
          ORDER BY m.id DESC LIMIT 1`,
        [conversationId, senderId, before],
      );
      return rows[0];
    },
    /** History oldest first: the `limit` newest before `before`, or the `limit` oldest after `after`. */
    async page(
      conversationId: string,
      opts: { before?: number | undefined; after?: number | undefined; limit: number; includeInternal: boolean },
    ): Promise<MessageRow[]> {
      const params: unknown[] = [conversationId, opts.includeInternal];
      let range = '';
      if (opts.after !== undefined) {
        params.push(opts.after);
        range += ` AND m.id > $${params.length}`;
      }
      if (opts.before !== undefined) {
        params.push(opts.before);
        range += ` AND m.id < $${params.length}`;
      }
      params.push(opts.limit);
      // Paging backwards (the default) takes the newest rows, then returns them oldest first.
      const order = opts.after !== undefined && opts.before === undefined ? 'ASC' : 'DESC';
      const { rows } = await db.query<MessageRow>(
        `${SELECT} WHERE m.conversation_id = $1 AND ($2 OR NOT m.internal) AND NOT ${DISCARDED}${range} ORDER BY m.id ${order} LIMIT $${params.length}`,
        params,
      );
      return order === 'DESC' ? rows.reverse() : rows;
    },
    /** Messages new to a user since `afterId` in the conversations they belong to, in id order. */
    async missedBy(userId: string, afterId: number, includeInternal: boolean, limit: number): Promise<MessageRow[]> {
      const { rows } = await db.query<MessageRow>(
        `${SELECT} WHERE m.id > $2 AND ($3 OR NOT m.internal) AND NOT ${DISCARDED}
            AND m.conversation_id IN (SELECT conversation_id FROM conversation_members WHERE user_id = $1)
          ORDER BY m.id LIMIT $4`,
        [userId, afterId, includeInternal, limit],
      );
      return rows;
    },
    /**
     * Messages up to `upToId` that changed after change `since` (completed, edited, deleted) in a
     * user's conversations, or whose change was written at most `overlapMs` before it (a commit, or
     * its live event, can land slightly out of order: those a client may have missed on a drop),
     * in change order after `cursor` (paging).
     */
    async changedFor(
      userId: string,
      q: { upToId: number; since: number; overlapMs: number; cursor: number; includeInternal: boolean; limit: number },
    ): Promise<MessageRow[]> {
      const { rows } = await db.query<MessageRow>(
        `WITH anchor AS (
           SELECT changed_at - make_interval(secs => $4::double precision / 1000) AS t
             FROM messages WHERE updated_seq <= $3 ORDER BY updated_seq DESC LIMIT 1)
         ${SELECT} WHERE m.id <= $2 AND m.updated_seq > $5 AND ($6 OR NOT m.internal)
            AND (m.updated_seq > $3 OR m.changed_at >= (SELECT t FROM anchor))
            AND m.conversation_id IN (SELECT conversation_id FROM conversation_members WHERE user_id = $1)
          ORDER BY m.updated_seq LIMIT $7`,
        [userId, q.upToId, q.since, q.overlapMs, q.cursor, q.includeInternal, q.limit],
      );
      return rows;
    },
    async updateBody(id: number, body: string): Promise<void> {
      await db.query('UPDATE messages SET body = $2, edited_at = now() WHERE id = $1', [id, body]);
    },
    async setAttachments(id: number, refs: AttachmentRef[]): Promise<void> {
      await db.query('UPDATE messages SET attachments = $2 WHERE id = $1', [id, JSON.stringify(refs)]);
    },
    async softDelete(id: number): Promise<void> {
      await db.query(`UPDATE messages SET body = '', attachments = '[]', deleted_at = now() WHERE id = $1`, [id]);
    },
    async addRevision(r: {
      messageId: number;
      editorId: string;
      action: 'edit' | 'delete';
      previousBody: string;
    }): Promise<void> {
      await db.query(
        'INSERT INTO message_revisions (message_id, editor_id, action, previous_body) VALUES ($1, $2, $3, $4)',
        [r.messageId, r.editorId, r.action, r.previousBody],
      );
    },
    /**
     * Bot output is written only while the conversation is with the bot: once an agent has claimed
     * it, these statements match nothing, however late the answer arrives.
     */
    async insertBotMessage(m: {
      conversationId: string;
      botId: string;
      body: string;
      status: MessageRow['status'];
      citations?: unknown[];
      meta?: Record<string, unknown>;
    }) {
      const { rows } = await db.query<{ id: number }>(
        `INSERT INTO messages (conversation_id, sender_type, sender_id, body, status, citations, meta)
         SELECT $1, 'bot', $2, $3, $4, $5, $6 FROM conversations WHERE id = $1 AND status = 'bot'
         RETURNING id`,
        [m.conversationId, m.botId, m.body, m.status, JSON.stringify(m.citations ?? []), JSON.stringify(m.meta ?? {})],
      );
      return rows[0] ? this.findById(rows[0].id) : undefined;
    },
    async completeBotMessage(
      id: number,
      update: { body: string; status: 'complete' | 'failed'; citations: unknown[]; meta?: Record<string, unknown> },
    ) {
      const { rows } = await db.query<{ id: number }>(
        `UPDATE messages m SET body = $2, status = $3, citations = $4, meta = m.meta || $5::jsonb
          FROM conversations c
         WHERE m.id = $1 AND c.id = m.conversation_id AND c.status = 'bot'
         RETURNING m.id`,
        [id, update.body, update.status, JSON.stringify(update.citations), JSON.stringify(update.meta ?? {})],
      );
      return rows[0] ? this.findById(id) : undefined;
    },
    /** The bot message that answered (or is answering) a question, if any. */
    async botReplyTo(conversationId: string, questionId: number): Promise<MessageRow | undefined> {
      const { rows } = await db.query<MessageRow>(
        `${SELECT} WHERE m.conversation_id = $1 AND m.sender_type = 'bot' AND (m.meta ->> 'questionId')::bigint = $2
            AND NOT ${DISCARDED}
          ORDER BY m.id DESC LIMIT 1`,
        [conversationId, questionId],
      );
      return rows[0];
    },
    /**
     * A streaming bot message cut short (a claim, a retry after a crash): emptied and marked
     * deleted rather than removed, so the change is numbered and a socket that was away when it
     * happened is told on resume (a removed row would leave its copy "streaming" for good). Left out
     * of the history like a message never written. Undefined when it was not streaming.
     */
    async discardStreaming(id: number): Promise<MessageRow | undefined> {
      const { rows } = await db.query<{ id: number }>(
        `UPDATE messages SET body = '', status = 'failed', deleted_at = now(), meta = meta || '{"discarded": true}'
          WHERE id = $1 AND status = 'streaming' RETURNING id`,
        [id],
      );
      return rows[0] ? this.findById(id) : undefined;
    },
  };
}

export type MessageRepository = ReturnType<typeof createMessageRepository>;
