import WebSocket from 'ws';
import { mapLimit } from './http.ts';

/**
 * Many cheap WebSocket clients in the bench process: no per-frame JSON parsing — each frame goes
 * to `onFrame` as a string (callers pick what they need with a regex), no compression.
 */
export interface ClientPool {
  sockets: WebSocket[];
  close(): Promise<void>;
}

export async function openSockets(
  baseUrl: string,
  tokens: readonly string[],
  onFrame: (index: number, frame: string) => void,
  options: { concurrency?: number } = {},
): Promise<ClientPool> {
  const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws`;
  const sockets = await mapLimit(
    tokens,
    options.concurrency ?? 50,
    (token, i) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false });
        ws.on('message', (data: Buffer) => onFrame(i, data.toString('utf8')));
        ws.once('open', () => resolve(ws));
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`WebSocket handshake refused: ${res.statusCode}`)),
        );
        ws.once('error', reject);
      }),
  );
  return {
    sockets,
    async close() {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once('close', () => resolve());
              ws.close();
              setTimeout(() => {
                ws.terminate();
                resolve();
              }, 2000).unref();
            }),
        ),
      );
    },
  };
}
