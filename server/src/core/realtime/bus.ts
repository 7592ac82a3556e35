import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { ConversationEvent } from '../conversations/conversation-events.ts';
import type { DocumentUpdate } from './frames.ts';

/**
 * Domain events that must reach every server instance (and from there the WebSocket clients they
 * concern). Features add their event shapes to this union.
 */
export type BusEvent =
  /**
   * Credentials that stopped being valid (logout, revocation, a disabled user): close the sockets
   * opened with these sessions or personal API tokens.
   */
  | { type: 'auth.revoked'; userId: string; sessionIds?: string[]; tokenIds?: string[] }
  /** What these users' actors say changed (role, groups, name, email): re-read them, keep sockets open. */
  | { type: 'user.changed'; userIds: string[] }
  /**
   * Never published: the Redis bus tells its own subscribers that its subscription dropped or came
   * back, so events may have been missed and whatever was cached from them may be stale.
   */
  | { type: 'bus.gap' }
  /** A member asked to stop the bot's answer in this conversation (the answering process aborts its model request). */
  | { type: 'answer.stop-requested'; conversationId: string }
  /** Conversations and their messages (the WebSocket gateway turns them into frames for their audience). */
  | ConversationEvent
  /** Ingestion status and progress of a document (presenter output), for admins' live views. */
  | { type: 'document.updated'; document: DocumentUpdate };

/**
 * `local`: the event was published by this process. Every process hears every event (so each can
 * reach its own sockets); a subscriber that counts or acts once per event counts only local ones.
 */
export type BusHandler = (event: BusEvent, origin: { local: boolean }) => void;

const LOCAL = { local: true } as const;
const REMOTE = { local: false } as const;

export interface RealtimeBus {
  readonly kind: 'memory' | 'redis';
  publish(event: BusEvent): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(handler: BusHandler): () => void;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** In one process: handlers run on a later tick, as they would after a Redis round trip. */
export function createMemoryBus(): RealtimeBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    kind: 'memory',
    async publish(event) {
      setImmediate(() => emitter.emit('event', event, LOCAL));
    },
    subscribe(handler) {
      emitter.on('event', handler);
      return () => emitter.off('event', handler);
    },
    async ping() {},
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/**
 * Redis pub/sub on one channel, so any server instance reaches any socket. The publishing
 * instance hands the event to its own subscribers at once instead of waiting for it to come back
 * from Redis (a round trip on every chat message's path to the sockets on this instance); each
 * published event carries the instance's id so the copy that does come back is skipped.
 */
export async function createRedisBus(redisUrl: string, channel = 'enclave:events'): Promise<RealtimeBus> {
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const subscriber = new Redis(redisUrl);
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  const instance = randomUUID();
  const local = new EventEmitter();
  local.setMaxListeners(0);
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    try {
      const { origin, ...event } = JSON.parse(raw) as BusEvent & { origin?: string };
      if (origin !== instance) local.emit('event', event, REMOTE);
    } catch {
      // A foreign or corrupt message on our channel is ignored rather than crashing every server.
    }
  });
  // Pub/sub delivers at most once: events published while the subscription is down are lost.
  let subscribed = false;
  const gap = () => {
    if (subscribed) local.emit('event', { type: 'bus.gap' } satisfies BusEvent, LOCAL);
  };
  subscriber.on('close', gap);
  subscriber.on('ready', gap);
  await subscriber.subscribe(channel);
  subscribed = true;
  return {
    kind: 'redis',
    async publish(event) {
      // A later tick, like the memory bus: a publisher never runs its subscribers re-entrantly.
      setImmediate(() => local.emit('event', event, LOCAL));
      await publisher.publish(channel, JSON.stringify({ ...event, origin: instance }));
    },
    subscribe(handler) {
      local.on('event', handler);
      return () => local.off('event', handler);
    },
    async ping() {
      await publisher.ping();
    },
    async close() {
      local.removeAllListeners();
      await Promise.all([subscriber, publisher].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
