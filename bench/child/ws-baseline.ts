import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { serveRpc } from './rpc.ts';

/**
 * The fan-out baseline: a minimal raw `ws` broadcast server speaking the same surface the bench
 * drives on Enclave — `GET /ws?token=` and `POST /api/conversations/:id/messages` (Bearer token,
 * JSON `{body, clientId}`) answering 201 and sending a `message.created` frame of the same shape to
 * every member's sockets. No database, no auth lookup, no bus: what any fan-out costs on this
 * machine, so Enclave's figures can be read as a ratio to it.
 */
const userOfToken = new Map<string, string>();
const membersOf = new Map<string, string[]>();
const socketsOf = new Map<string, Set<WebSocket>>();
let nextId = 1;

const server = http.createServer((req, res) => {
  const match = /^\/api\/conversations\/([^/]+)\/messages$/.exec(req.url ?? '');
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const userId = token ? userOfToken.get(token) : undefined;
  if (req.method !== 'POST' || !match || !userId) {
    res.statusCode = userId ? 404 : 401;
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { body: string; clientId?: string };
    const conversationId = match[1]!;
    const message = {
      id: nextId++,
      conversationId,
      senderType: 'user',
      senderId: userId,
      senderName: userId.slice(0, 8),
      body: input.body,
      clientId: input.clientId ?? null,
      status: 'complete',
      internal: false,
      citations: [],
      attachments: [],
      createdAt: new Date().toISOString(),
    };
    const frame = JSON.stringify({ type: 'message.created', message });
    for (const member of membersOf.get(conversationId) ?? []) {
      for (const ws of socketsOf.get(member) ?? []) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    }
    res.statusCode = 201;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ message }));
  });
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const userId = userOfToken.get(url.searchParams.get('token') ?? '');
  if (url.pathname !== '/ws' || !userId) {
    socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const own = socketsOf.get(userId) ?? new Set();
    own.add(ws);
    socketsOf.set(userId, own);
    ws.on('close', () => own.delete(ws));
    ws.on('error', () => ws.terminate());
  });
});

serveRpc({
  /** Users (token → id) and conversation memberships, as the bench seeded them on Enclave. */
  setup(raw) {
    const args = raw as { users: { id: string; token: string }[]; conversations: Record<string, string[]> };
    for (const u of args.users) userOfToken.set(u.token, u.id);
    for (const [id, members] of Object.entries(args.conversations)) membersOf.set(id, members);
    return true;
  },
  sockets: () => wss.clients.size,
  stop() {
    for (const ws of wss.clients) ws.terminate();
    server.closeAllConnections();
    server.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ ready: true, url: `http://127.0.0.1:${port}` });
});
