import WebSocket from 'ws';

export interface Frame {
  type: string;
  // Frames are asserted on by shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

export interface TestSocket {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves with the first frame (already received or future) matching, or rejects after `timeoutMs`. */
  waitFor(predicate: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Resolves once `count` matching frames have arrived. */
  waitForCount(predicate: (f: Frame) => boolean, count: number, timeoutMs?: number): Promise<Frame[]>;
  send(frame: unknown): void;
  close(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A WebSocket client that records every frame it receives. */
export function connectSocket(
  baseUrl: string,
  token: string,
  headers: Record<string, string> = {},
): Promise<TestSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`, { headers });
  const frames: Frame[] = [];
  const listeners = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    for (const l of listeners) l();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );

  function waitForCount(predicate: (f: Frame) => boolean, count: number, timeoutMs = 5000): Promise<Frame[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const matching = frames.filter(predicate);
        if (matching.length >= count) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(matching);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`Timed out waiting for ${count} frame(s); got ${JSON.stringify(frames.slice(-5))}`));
      }, timeoutMs);
      if (!check()) listeners.add(check);
    });
  }

  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        frames,
        waitFor: async (predicate, timeoutMs) => (await waitForCount(predicate, 1, timeoutMs))[0]!,
        waitForCount,
        send: (frame) => ws.send(JSON.stringify(frame)),
        close: async () => {
          ws.close();
          await closed;
        },
        closed,
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket handshake refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
