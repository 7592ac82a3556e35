/**
 * Run inside a loopback-only network namespace (test/ops/airgap.test.ts): starts the embedded
 * server (`server/src/main.ts all`) as a child, drives the whole journey over HTTP — first admin,
 * users, knowledge, search, a bot conversation answered by the offline model, handoff, claim, agent
 * reply, resolve — then stops the server and prints one JSON line with what happened.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const recorder = path.join(ROOT, 'test/ops/support/connection-recorder.mjs');
const admin = { email: 'admin@airgap.test', password: 'air-gapped-admin-password-1' };

const server = spawn(process.execPath, ['--import', 'tsx', '--import', recorder, 'server/src/main.ts', 'all'], {
  cwd: ROOT,
  env: {
    ...process.env,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
server.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
server.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));

function fail(message: string): never {
  process.stdout.write(`${JSON.stringify({ ok: false, error: message, server: output.slice(-3000) })}\n`);
  server.kill('SIGKILL');
  process.exit(1);
}

async function ready(): Promise<string> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    for (const line of output.split('\n')) {
      if (!line.startsWith('{')) continue;
      const parsed = JSON.parse(line) as { msg?: string; url?: string };
      if (parsed.msg === 'Enclave is ready') return parsed.url!;
    }
    if (server.exitCode !== null) fail(`server exited with ${server.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return fail('server not ready within 90 s');
}

const url = await ready();
async function call(method: string, route: string, token?: string, body?: unknown) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (res.status >= 300) fail(`${method} ${route} → ${res.status} ${text}`);
  return json;
}
async function poll<T>(what: string, probe: () => Promise<T | undefined>, state: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  return fail(
    `timed out waiting for ${what} ${state()}; non-request log: ${output
      .split('\n')
      .filter((l) => !l.includes('"msg":"request"'))
      .join('\n')
      .slice(-2000)}`,
  );
}

const steps: string[] = [];
const adminToken = (await call('POST', '/api/auth/login', undefined, admin)).token as string;
steps.push('admin signed in');
await call('POST', '/api/users', adminToken, {
  email: 'agent@airgap.test',
  name: 'Agent',
  password: 'Kestrel-orbit-5529',
  role: 'agent',
});
await call('POST', '/api/users', adminToken, {
  email: 'emp@airgap.test',
  name: 'Employee',
  password: 'Lantern-quartz-8841',
  role: 'employee',
});
steps.push('users created');
const agentToken = (
  await call('POST', '/api/auth/login', undefined, { email: 'agent@airgap.test', password: 'Kestrel-orbit-5529' })
).token as string;
const empToken = (
  await call('POST', '/api/auth/login', undefined, { email: 'emp@airgap.test', password: 'Lantern-quartz-8841' })
).token as string;

const collection = (await call('POST', '/api/collections', adminToken, { name: 'Handbook' })).collection;
const doc = (
  await call('POST', `/api/collections/${collection.id}/documents`, adminToken, {
    title: 'Leave policy',
    text: 'Employees get 25 vacation days per year. Unused vacation days carry over until the end of March.',
  })
).document;
let lastDoc: unknown;
await poll(
  'ingestion',
  async () => {
    const current = (await call('GET', `/api/documents/${doc.id}`, adminToken)).document;
    lastDoc = current;
    if (current.status === 'failed') fail(`ingestion failed: ${JSON.stringify(current)}`);
    return current.status === 'ready' ? true : undefined;
  },
  () => JSON.stringify(lastDoc),
);
steps.push('document ingested');
const hits = (await call('POST', '/api/search', empToken, { query: 'how many vacation days' })).hits as {
  title: string;
}[];
if (!hits.length || hits[0]!.title !== 'Leave policy') fail(`search: ${JSON.stringify(hits)}`);
steps.push('search found the document');

const bot = (
  await call('POST', '/api/bots', adminToken, { slug: 'hr', name: 'HR Assistant', collectionIds: [collection.id] })
).bot;
const conversation = (await call('POST', '/api/conversations', empToken, { botId: bot.id })).conversation;
await call('POST', `/api/conversations/${conversation.id}/messages`, empToken, {
  body: 'How many vacation days do I get per year?',
  clientId: 'q1',
});
const answer = await poll('the bot answer', async () => {
  const items = (await call('GET', `/api/conversations/${conversation.id}/messages`, empToken)).items as {
    senderType: string;
    status: string;
    body: string;
    citations?: unknown[];
  }[];
  return items.find((m) => m.senderType === 'bot' && m.status === 'complete' && /25/.test(m.body));
});
steps.push('bot answered from the document');

await call('POST', `/api/conversations/${conversation.id}/handoff`, empToken, { reason: 'user_request' });
const queued = (await call('GET', `/api/conversations/${conversation.id}`, empToken)).conversation;
if (queued.status !== 'queued') fail(`after handoff: ${queued.status}`);
steps.push('handed off');
await call('POST', `/api/conversations/${conversation.id}/claim`, agentToken);
await call('POST', `/api/conversations/${conversation.id}/messages`, agentToken, {
  body: 'Hello, an agent here: it is 25 days.',
});
await call('POST', `/api/conversations/${conversation.id}/resolve`, agentToken);
const resolved = (await call('GET', `/api/conversations/${conversation.id}`, empToken)).conversation;
if (resolved.status !== 'resolved') fail(`after resolve: ${resolved.status}`);
steps.push('agent claimed, replied and resolved');

server.kill('SIGTERM');
const code = await new Promise<number | null>((resolve) => server.once('exit', (c) => resolve(c)));
const log = process.env.ENCLAVE_CONNECT_LOG;
const attempts = log
  ? (await readFile(log, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
process.stdout.write(
  `${JSON.stringify({ ok: true, steps, answer: answer.body, exitCode: code, interfaces: Object.keys(os.networkInterfaces()), outbound: attempts })}\n`,
);
