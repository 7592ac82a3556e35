import type { ClientFrame, ServerFrame } from './frames';

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionOptions {
  url: string;
  onFrame(frame: ServerFrame): void;
  onStatus(status: ConnectionStatus): void;
  /** Every successful open; `reconnected` is false the first time. */
  onOpen(reconnected: boolean): void;
  /** The server ended the session (close code 4001): do not reconnect. */
  onSessionEnded(): void;
  createSocket?: (url: string) => WebSocket;
  /** Client ping interval; a missing pong within `pongTimeoutMs` counts as a dead connection. */
  pingMs?: number;
  pongTimeoutMs?: number;
  maxBackoffMs?: number;
}

/**
 * One WebSocket that stays up: reconnects with capped, jittered exponential backoff (at once when
 * the browser comes back online), and notices a silently dead link with application pings.
 */
export function createConnection(options: ConnectionOptions) {
  const pingMs = options.pingMs ?? 25_000;
  const pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
  const maxBackoff = options.maxBackoffMs ?? 15_000;
  let socket: WebSocket | undefined;
  let attempts = 0;
  let everOpened = false;
  let stopped = true;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;

  const create = options.createSocket ?? ((url: string) => new WebSocket(url));

  function clearTimers() {
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    retryTimer = pingTimer = pongTimer = undefined;
  }

  function open() {
    clearTimers();
    options.onStatus(everOpened ? 'reconnecting' : 'connecting');
    const ws = create(options.url);
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      attempts = 0;
      const reconnected = everOpened;
      everOpened = true;
      options.onStatus('open');
      pingTimer = setInterval(() => {
        send({ type: 'ping' });
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => ws.close(4000, 'pong timeout'), pongTimeoutMs);
      }, pingMs);
      options.onOpen(reconnected);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (socket !== ws) return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'pong') {
        clearTimeout(pongTimer);
        return;
      }
      options.onFrame(frame);
    };
    ws.onclose = (event: CloseEvent) => {
      if (socket !== ws) return;
      socket = undefined;
      clearTimers();
      if (event.code === 4001) {
        stopped = true;
        options.onStatus('closed');
        options.onSessionEnded();
        return;
      }
      // The user opened more sockets than the server allows and this is the oldest: reconnecting
      // would only close the next oldest, and so on round the tabs.
      if (event.code === 4008) stopped = true;
      if (stopped) {
        options.onStatus('closed');
        return;
      }
      scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and decides
    };
  }

  function scheduleReconnect() {
    options.onStatus(everOpened ? 'reconnecting' : 'connecting');
    const base = Math.min(maxBackoff, 500 * 2 ** attempts);
    attempts += 1;
    retryTimer = setTimeout(open, base / 2 + Math.random() * (base / 2));
  }

  function onOnline() {
    if (!stopped && !socket) open();
  }

  function send(frame: ClientFrame): boolean {
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      if (typeof window !== 'undefined') window.addEventListener('online', onOnline);
      open();
    },
    stop() {
      stopped = true;
      clearTimers();
      if (typeof window !== 'undefined') window.removeEventListener('online', onOnline);
      const ws = socket;
      socket = undefined;
      ws?.close(1000, 'bye');
      options.onStatus('closed');
      everOpened = false;
      attempts = 0;
    },
    send,
    /** Drops the current socket as if the network failed (tests, and a manual "retry now"). */
    drop() {
      socket?.close(4000, 'dropped');
    },
  };
}

export type Connection = ReturnType<typeof createConnection>;

export function socketUrl(location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}
