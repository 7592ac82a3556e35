import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import type { TestUser } from '../support/fixtures.ts';
import { ROOT } from '../support/spawn.ts';
import { sleep, until } from '../support/wait.ts';
import { connectSocket, type TestSocket } from '../support/ws-client.ts';
import { apiOf, quickUser, type Api } from './helpers.ts';

/**
 * The figures the issue asks for, measured on this machine: message round-trip (POST → the
 * message.created frame at another member's socket) with 100 sockets connected, and server memory
 * per idle socket. Printed; asserted only for sanity.
 */

const SOCKETS = 100;
const MESSAGES = 200;
const IDLE_SOCKETS = 500;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A garbage collection on demand, without starting the test process with --expose-gc. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Opens and closes idle sockets from a child process, so the client side does not count in our heap. */
const IDLE_CLIENT = `
const WebSocket = require('ws');
const tokens = JSON.parse(process.env.TOKENS);
let sockets = [];
let pending = '';
process.stdin.setEncoding('utf8').on('data', async (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\\n')) >= 0) {
    const command = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    if (command === 'open') {
      sockets = await Promise.all(Array.from({ length: Number(process.env.COUNT) }, (_, i) => new Promise((resolve, reject) => {
        const ws = new WebSocket(process.env.WS_URL + '?token=' + encodeURIComponent(tokens[i % tokens.length]));
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      })));
      console.log('opened ' + sockets.length);
    } else if (command === 'close') {
      await Promise.all(sockets.map((ws) => new Promise((resolve) => { ws.once('close', resolve); ws.close(); })));
      sockets = [];
      console.log('closed');
    }
  }
});
`;

describe.each(backends)('measured figures on %s', (backend) => {
  let app: TestApp;
  let api: Api;
  let users: TestUser[];

  beforeAll(async () => {
    app = await startTestApp(backend);
    api = apiOf(app);
    users = [];
    for (let i = 0; i < SOCKETS; i += 10) users.push(...(await Promise.all(Array.from({ length: 10 }, () => quickUser(app)))));
  });
  afterAll(() => app?.close());

  it(`message round-trip with ${SOCKETS} sockets connected (p50/p99 over ${MESSAGES} messages)`, async () => {
    const [sender, receiver, ...others] = users as [TestUser, TestUser, ...TestUser[]];
    const group = (await api.post(sender.token, '/api/conversations', { kind: 'group', title: 'All hands', memberIds: [receiver, ...others].map((u) => u.id) })).body.conversation.id;
    const sockets: TestSocket[] = [];
    for (let i = 0; i < users.length; i += 20) sockets.push(...(await Promise.all(users.slice(i, i + 20).map((u) => connectSocket(app.url, u.token)))));
    expect(app.gateway.size).toBeGreaterThanOrEqual(SOCKETS);

    const arrivals = new Map<number, number>();
    const waiting = new Map<number, () => void>();
    sockets[1]!.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; message?: { id: number } };
      if (frame.type !== 'message.created' || !frame.message) return;
      arrivals.set(frame.message.id, performance.now());
      waiting.get(frame.message.id)?.();
    });
    const arrived = (id: number) => new Promise<void>((resolve) => (arrivals.has(id) ? resolve() : waiting.set(id, resolve)));

    // Warm-up (JIT, connection pools), not measured.
    for (let i = 0; i < 10; i += 1) await arrived((await api.post(sender.token, `/api/conversations/${group}/messages`, { body: `warm-up ${i}` })).body.message.id);
    const roundTrips: number[] = [];
    for (let i = 0; i < MESSAGES; i += 1) {
      const started = performance.now();
      const res = await api.post(sender.token, `/api/conversations/${group}/messages`, { body: `round trip ${i}` });
      await arrived(res.body.message.id);
      roundTrips.push(arrivals.get(res.body.message.id)! - started);
    }
    // Everyone got every message, once.
    for (const socket of sockets) await socket.waitForCount((f) => f.type === 'message.created' && f.message.conversationId === group, MESSAGES + 10, 10_000);
    for (const socket of sockets) expect(socket.frames.filter((f) => f.type === 'message.created').length).toBe(MESSAGES + 10);

    const sorted = [...roundTrips].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    console.log(
      `[${backend}] message round-trip POST → message.created at another member, ${SOCKETS} sockets in one group (fan-out ${SOCKETS}), ${MESSAGES} messages: ` +
        `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
    );
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThan(1000);
    await Promise.all(sockets.map((s) => s.close()));
  }, 120_000);

  it(`server memory per idle socket (${IDLE_SOCKETS} idle sockets, median of three rounds)`, async () => {
    const gc = collector();
    const heap = async () => {
      const samples: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        gc();
        const { heapUsed, external } = process.memoryUsage();
        samples.push(heapUsed + external);
        await sleep(20);
      }
      return median(samples);
    };
    const child = spawn(process.execPath, ['-e', IDLE_CLIENT], {
      cwd: ROOT,
      env: { ...process.env, WS_URL: `${app.url.replace(/^http/, 'ws')}/ws`, TOKENS: JSON.stringify(users.slice(0, 50).map((u) => u.token)), COUNT: String(IDLE_SOCKETS) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const command = async (line: string, answer: RegExp) => {
      const seen = out.length;
      child.stdin.write(`${line}\n`);
      await until(() => answer.test(out.slice(seen)), `the idle client to answer ${line} (output: ${out.slice(-500)})`, 30_000);
    };
    try {
      const base = app.gateway.size;
      const perSocket: number[] = [];
      for (let round = 0; round < 3; round += 1) {
        await sleep(100);
        const before = await heap();
        await command('open', /opened \d+/);
        await until(() => app.gateway.size === base + IDLE_SOCKETS, 'every socket to be registered', 10_000);
        await sleep(100);
        const after = await heap();
        perSocket.push((after - before) / IDLE_SOCKETS);
        await command('close', /closed/);
        await until(() => app.gateway.size === base, 'every socket to be gone', 10_000);
      }
      const bytes = median(perSocket);
      console.log(
        `[${backend}] server memory per idle WebSocket (heapUsed + external, after gc), ${IDLE_SOCKETS} sockets: ` +
          `median ${Math.round(bytes)} bytes (rounds: ${perSocket.map((b) => Math.round(b)).join(', ')})`,
      );
      expect(bytes).toBeGreaterThan(0);
      expect(bytes).toBeLessThan(256 * 1024);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);
});
