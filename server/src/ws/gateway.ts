import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { presentMessage } from '../core/conversations/conversation.presenter.ts';
import { createMissedMessages } from '../core/conversations/missed-messages.ts';
import type { Actor } from '../core/policy/actor.ts';
import { credentialAllows } from '../core/policy/policy.ts';
import type { BusEvent } from '../core/realtime/bus.ts';
import type { DeliveredFrame, MessageFrame, ServerFrame } from '../core/realtime/frames.ts';
import type { Domain } from '../domain.ts';
import { SESSION_COOKIE } from '../http/middleware/authenticate.ts';
import type { Services } from '../services.ts';
import { clientFrame, type ClientFrame } from './client-frames.ts';
import { conversationFrames, type Delivery } from './conversation-frames.ts';
import { TokenBucket } from '../core/rate-limit/token-bucket.ts';

export interface GatewayOptions {
  /** Ping interval; a socket that missed the previous pong is dropped. */
  heartbeatMs: number;
  /** Bytes a slow client may have queued before it is disconnected (it resumes on reconnect). */
  maxBufferedBytes: number;
  /** Client frames per second, and the burst allowed above it. */
  framesPerSecond: number;
  frameBurst: number;
  /**
   * How long a new socket's message frames wait for its `resume` (the WebSocket contract: a resume
   * may come a few hundred milliseconds after the socket opens). Sent meanwhile, a newer message
   * would move the client's "last seen" past what it missed while away.
   */
  resumeGraceMs: number;
  /** Sockets one user may hold on this server; a further one closes their oldest (4008). */
  maxSocketsPerUser: number;
}

export const DEFAULT_GATEWAY_OPTIONS: GatewayOptions = {
  heartbeatMs: 30_000,
  maxBufferedBytes: 1024 * 1024,
  framesPerSecond: 10,
  frameBurst: 30,
  resumeGraceMs: 1000,
  maxSocketsPerUser: 20,
};

const RESUME_PAGE = 500;
const RATE_STRIKES_BEFORE_CLOSE = 50;
/**
 * How many messages a socket remembers the newest state it was sent of (id → change number). A
 * replay and a live event of the same message can race (a message committed while `resume`
 * runs, a bus event delayed past the replay): each state of a message reaches a socket once, and
 * never after a newer one. Allocated with the first message, so idle sockets pay nothing.
 */
const RECENT_MESSAGES = 256;
/** A slow client is sent a close frame; if that cannot get through either, the socket goes after this. */
const SLOW_CLOSE_GRACE_MS = 1000;
/** A replay waits this long at most for a client to read what it was sent before sending more. */
const REPLAY_DRAIN_TIMEOUT_MS = 10_000;

interface Client {
  ws: WebSocket;
  actor: Actor;
  token: string;
  alive: boolean;
  bucket: TokenBucket;
  strikes: number;
  /**
   * From the handshake until its resume (or resumeGraceMs without one), and while a replay runs:
   * live message frames wait here, then go out once, in order, after the replay.
   */
  held?: DeliveredFrame[];
  /** What `held` would take to send: bounded like the socket's own buffer. */
  heldBytes?: number;
  holdTimer?: ReturnType<typeof setTimeout>;
  /** The newest change number sent of each recent message, least recently sent first (see RECENT_MESSAGES). */
  recent?: Map<number, number>;
  /** The resume in progress: a second one waits for it, so their replays and buffers never mix. */
  resuming?: Promise<void>;
}

const isMessageFrame = (frame: ServerFrame): frame is MessageFrame =>
  frame.type === 'message.created' || frame.type === 'message.completed' || frame.type === 'message.updated';

/** Frames that wait while a socket catches up: messages, and the deltas that must not precede their message. */
const waitsForReplay = (frame: DeliveredFrame) => isMessageFrame(frame) || frame.type === 'message.delta';

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * The WebSocket gateway on `GET /ws`: authenticates at the handshake, turns bus events into frames
 * for the sockets of their audience, replays what a client missed on `resume`, and protects the server
 * from dead, slow and noisy clients.
 */
export function createGateway(services: Services, domain: Domain, options: GatewayOptions = DEFAULT_GATEWAY_OPTIONS) {
  const { metrics, logger } = services;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  const byUser = new Map<string, Set<Client>>();
  const clients = new Set<Client>();
  const allowedOrigin = services.config.publicUrl ? new URL(services.config.publicUrl).origin : undefined;

  /** `encoded`: the frame as JSON, when the caller serialised it once for many sockets. */
  function send(client: Client, frame: ServerFrame, encoded?: () => string) {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    if (isMessageFrame(frame)) {
      // Each state once per socket, whichever of the replay and the live event comes first, and
      // never an older state after a newer one.
      const { id, updatedSeq } = frame.message;
      const recent = (client.recent ??= new Map());
      const sent = recent.get(id);
      if (sent !== undefined && sent >= updatedSeq) return;
      recent.delete(id);
      recent.set(id, updatedSeq);
      if (recent.size > RECENT_MESSAGES) recent.delete(recent.keys().next().value!);
    }
    // A client that cannot keep up is cut loose rather than buffered without bound; it will
    // reconnect and `resume` from the database.
    if (client.ws.bufferedAmount > options.maxBufferedBytes) return cutSlow(client);
    client.ws.send(encoded ? encoded() : JSON.stringify(frame));
    metrics.wsFrames.inc({ direction: 'out', type: frame.type });
  }

  function cutSlow(client: Client) {
    metrics.wsDropped.inc({ reason: 'slow_consumer' });
    client.ws.close(1013, 'Too slow; reconnect and resume');
    // The close frame queues behind what the client is not reading: without this the socket and
    // its buffers would stay for ws's 30-second close timeout.
    const ws = client.ws;
    setTimeout(() => ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  }

  /**
   * A replay sends as fast as the client reads, not faster: before the next message it waits for
   * the socket's buffer to fall below half the limit. False when the client is gone or too slow.
   */
  async function roomFor(client: Client): Promise<boolean> {
    const deadline = Date.now() + REPLAY_DRAIN_TIMEOUT_MS;
    while (client.ws.readyState === WebSocket.OPEN && client.ws.bufferedAmount > options.maxBufferedBytes / 2) {
      if (Date.now() > deadline) {
        cutSlow(client);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return client.ws.readyState === WebSocket.OPEN;
  }

  function deliver(client: Client, frame: DeliveredFrame, encoded?: () => string) {
    if (!client.held || !waitsForReplay(frame)) return send(client, frame, encoded);
    // Holding is buffering too: a socket that would have more waiting than its buffer may hold is
    // cut loose like a slow one (it resumes from the database).
    client.heldBytes = (client.heldBytes ?? 0) + (encoded ? encoded() : JSON.stringify(frame)).length;
    if (client.heldBytes > options.maxBufferedBytes) {
      client.held = undefined;
      clearTimeout(client.holdTimer);
      return cutSlow(client);
    }
    client.held.push(frame);
  }

  /** Sends what waited (send() drops what a replay already carried) and lets frames through again. */
  function release(client: Client) {
    clearTimeout(client.holdTimer);
    const held = client.held ?? [];
    client.held = undefined;
    client.heldBytes = 0;
    for (const frame of held) send(client, frame);
  }

  /** Serialises a frame at most once however many sockets it goes to. */
  function once(frame: unknown): () => string {
    let json: string | undefined;
    return () => (json ??= JSON.stringify(frame));
  }

  function deliverTo({ userIds, roles, frame }: Delivery) {
    const targets = new Set<Client>();
    for (const id of userIds) for (const c of byUser.get(id) ?? []) targets.add(c);
    if (roles?.length) {
      for (const c of clients) if (roles.includes(c.actor.role)) targets.add(c);
    }
    const encoded = once(frame);
    for (const client of targets) deliver(client, frame, encoded);
  }

  async function revalidate(userId: string, sessionIds: string[] | undefined) {
    for (const client of [...(byUser.get(userId) ?? [])]) {
      const named = sessionIds?.includes(client.actor.credential.id);
      const actor = named ? undefined : await domain.auth.authenticate(client.token, { fresh: true });
      if (!actor) {
        metrics.wsDropped.inc({ reason: 'revoked' });
        client.ws.close(4001, 'Session ended');
      } else {
        client.actor = actor; // role or groups may have changed
      }
    }
  }

  function onBusEvent(event: BusEvent) {
    switch (event.type) {
      case 'document.updated': {
        const frame: ServerFrame = { type: 'document.updated', document: event.document };
        const encoded = once(frame);
        for (const c of clients) if (c.actor.role === 'admin') send(c, frame, encoded);
        return;
      }
      case 'auth.revoked':
        void revalidate(event.userId, event.sessionIds).catch((error) =>
          logger.warn({ err: error }, 'socket revalidation failed'),
        );
        return;
      case 'user.changed':
        for (const userId of event.userIds) {
          void revalidate(userId, undefined).catch((error) =>
            logger.warn({ err: error }, 'socket revalidation failed'),
          );
        }
        return;
      case 'bus.gap':
        // Events were lost while the bus was down, revocations among them: check every socket again.
        for (const userId of [...byUser.keys()]) {
          void revalidate(userId, undefined).catch((error) =>
            logger.warn({ err: error }, 'socket revalidation failed'),
          );
        }
        return;
      case 'answer.stop-requested':
        return; // for the answerer, not for browsers
      default:
        for (const delivery of conversationFrames(event)) deliverTo(delivery);
    }
  }

  /**
   * Replays what the socket's user missed: the current state of messages up to `after` that
   * changed after change `since` (completed, edited, deleted; `since` defaults to `after`, the
   * numbers share one sequence), then every message after `after` in id order; then what waited.
   */
  async function resume(client: Client, after: number, since = after) {
    clearTimeout(client.holdTimer);
    client.held ??= [];
    const missed = createMissedMessages(services.db);
    let last = after;
    let seq = since;
    try {
      // Changes first: a message a client lacks for a drop between out-of-order commits comes
      // back here, before the newer messages of its conversation.
      for (let cursor = 0; ;) {
        if (client.ws.readyState !== WebSocket.OPEN) return;
        const changed = await missed.changed(client.actor, { upToId: after, since, cursor, limit: RESUME_PAGE });
        for (const row of changed) {
          if (!(await roomFor(client))) return;
          send(client, { type: 'message.updated', message: presentMessage(row) });
          cursor = row.updated_seq;
          seq = Math.max(seq, row.updated_seq);
        }
        if (changed.length < RESUME_PAGE) break;
      }
      for (;;) {
        // A socket closed meanwhile (too slow, gone) needs no more pages.
        if (client.ws.readyState !== WebSocket.OPEN) return;
        const created = await missed.created(client.actor, last, RESUME_PAGE);
        for (const row of created) {
          if (!(await roomFor(client))) return;
          send(client, { type: 'message.created', message: presentMessage(row) });
          last = row.id;
          seq = Math.max(seq, row.updated_seq);
        }
        if (created.length < RESUME_PAGE) break;
      }
    } finally {
      // The replay's last message may still fill the socket's buffer: what waited goes out after it drains.
      if (await roomFor(client)) release(client);
    }
    send(client, { type: 'resume.done', last, seq });
  }

  async function handle(client: Client, frame: ClientFrame) {
    switch (frame.type) {
      case 'typing':
        await domain.conversations.typing(client.actor, frame.conversationId, frame.internal ?? false);
        return;
      case 'read':
        await domain.conversations.markRead(client.actor, frame.conversationId, frame.messageId);
        return;
      case 'resume': {
        const previous = client.resuming ?? Promise.resolve();
        const run = previous.catch(() => {}).then(() => resume(client, frame.after, frame.since));
        client.resuming = run;
        try {
          await run;
        } finally {
          if (client.resuming === run) client.resuming = undefined;
        }
        return;
      }
      case 'live':
        // A resume in progress releases what waited when its replay is done.
        if (!client.resuming) release(client);
        return;
      case 'ping':
        send(client, { type: 'pong' });
        return;
    }
  }

  function onConnection(ws: WebSocket, actor: Actor, token: string) {
    const client: Client = {
      ws,
      actor,
      token,
      alive: true,
      bucket: new TokenBucket(options.framesPerSecond, options.frameBurst),
      strikes: 0,
      held: [],
    };
    // Released on the next turn of the event loop, after its I/O: a resume frame that arrived in time
    // on a busy server (its timers and reads both late) is read first.
    client.holdTimer = setTimeout(() => {
      setImmediate(() => {
        if (!client.resuming) release(client);
      });
    }, options.resumeGraceMs);
    clients.add(client);
    const own = byUser.get(actor.id) ?? new Set();
    // A user past the cap (a leak of tabs, a runaway script) loses their oldest socket, not the new one:
    // the new one is where they are now. It is told not to reconnect (4008).
    if (own.size >= options.maxSocketsPerUser) {
      const oldest = own.values().next().value!;
      own.delete(oldest);
      metrics.wsDropped.inc({ reason: 'too_many_sockets' });
      oldest.ws.close(4008, 'Too many connections for this user');
    }
    own.add(client);
    byUser.set(actor.id, own);
    metrics.wsConnections.inc();

    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      client.alive = true;
      // A pause long enough to refill the whole burst ends a flood: only a sustained one closes the socket.
      if (client.strikes > 0 && client.bucket.isFull()) client.strikes = 0;
      if (!client.bucket.take()) {
        client.strikes += 1;
        if (client.strikes >= RATE_STRIKES_BEFORE_CLOSE) {
          metrics.wsDropped.inc({ reason: 'rate_limited' });
          ws.close(1008, 'Too many frames');
        } else {
          send(client, { type: 'error', code: 'rate_limited', message: 'Slow down' });
        }
        return;
      }
      let parsed: ClientFrame;
      try {
        parsed = clientFrame.parse(JSON.parse(isBinary ? '' : data.toString()));
      } catch {
        send(client, { type: 'error', code: 'invalid_frame', message: 'Frames are JSON objects of a known type' });
        return;
      }
      metrics.wsFrames.inc({ direction: 'in', type: parsed.type });
      handle(client, parsed).catch((error: unknown) => {
        const code = (error as { code?: string }).code ?? 'internal';
        if (code === 'internal') logger.error({ err: error }, 'socket frame failed');
        send(client, {
          type: 'error',
          code,
          message: code === 'internal' ? 'Something went wrong' : (error as Error).message,
        });
      });
    });
    ws.on('close', () => {
      clearTimeout(client.holdTimer);
      clients.delete(client);
      own.delete(client);
      // An evicted socket (see maxSocketsPerUser) may close after its set was emptied and replaced.
      if (!own.size && byUser.get(actor.id) === own) byUser.delete(actor.id);
      metrics.wsConnections.dec();
    });
    ws.on('error', () => ws.terminate());
  }

  function reject(socket: Duplex, status: number, reason: string) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return reject(socket, 404, 'Not Found');
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const fromCookie = cookieToken(req.headers.cookie);
    const token = url.searchParams.get('token') ?? bearer ?? fromCookie;
    // Browsers always send Origin on WebSocket handshakes; a foreign page must not ride the cookie.
    const origin = req.headers.origin;
    const ownOrigin = `http://${req.headers.host}`;
    const originOk =
      !origin || origin === ownOrigin || origin === `https://${req.headers.host}` || origin === allowedOrigin;
    if (!originOk || (token === fromCookie && token && !origin)) return reject(socket, 403, 'Forbidden');
    const actor = token ? await domain.auth.authenticate(token).catch(() => undefined) : undefined;
    if (!actor || !token) return reject(socket, 401, 'Unauthorized');
    // The socket carries what the REST API shows (conversations, documents): a `chat`-only token is for /v1.
    if (!credentialAllows(actor, 'api')) return reject(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, actor, token));
  }

  const unsubscribe = services.bus.subscribe(onBusEvent);
  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        metrics.wsDropped.inc({ reason: 'heartbeat' });
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    attach(server: Server) {
      server.on('upgrade', (req, socket, head) => {
        void onUpgrade(req, socket, head);
      });
    },
    get size() {
      return clients.size;
    },
    /** Closes every socket (server shutdown: clients reconnect elsewhere and resume). */
    close() {
      clearInterval(heartbeat);
      unsubscribe();
      for (const client of clients) client.ws.close(1012, 'Server restarting');
      wss.close();
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
