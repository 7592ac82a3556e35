import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startChild, type ChildHandle } from '../lib/child.ts';
import { mapLimit, must } from '../lib/http.ts';
import { summarizeProfile } from '../lib/profile.ts';
import { machineInfo, RESULTS_DIR, type ScenarioResult } from '../lib/report.ts';
import type { Scenario, ScenarioContext } from '../lib/scenario.ts';
import { openSockets } from '../lib/sockets.ts';
import { sleep, summarize, rng } from '../lib/stats.ts';

/**
 * Chat fan-out: N sockets (90% in group conversations of GROUP_SIZE, 10% alone with a bot), M
 * messages/s posted over HTTP for T seconds to random group members' conversations; latency from
 * just before the POST to the `message.created` frame at each other member. The same users,
 * memberships and traffic against a raw `ws` broadcast server are the baseline.
 */
const GROUP_SIZE = 10;
const FRAME_BODY = /"body":"fan:(\d+)"/;

interface Seeded {
  users: { id: string; token: string }[];
  /** conversation id → member user indexes */
  groups: { id: string; members: number[] }[];
  botUsers: number[];
  conversations: Record<string, string[]>;
}

export interface SqlTrace {
  statements: { sql: string; n: number; totalMs: number; meanMs: number }[];
  transactionStart: { n: number; meanMs: number };
}

interface TrafficResult {
  latencies: number[];
  sent: number;
  expected: number;
  received: number;
  lost: number;
  duplicated: number;
  leaked: number;
  postErrors: number;
  idleKbPerSocketRss: number;
  idleKbPerSocketHeap: number;
  /** The server process's CPU time (user + system, all threads) per message posted, in ms. */
  cpuMsPerMessage: number;
  gc: { count: number; totalMs: number; maxMs: number; maxKind: number; over5Ms: number; major: number };
  memory: { before: unknown; idle: unknown; after: unknown };
  achievedRate: number;
}

function settings(quick: boolean) {
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  return quick
    ? {
        sockets: env('BENCH_FANOUT_SOCKETS', 40),
        rate: env('BENCH_FANOUT_RATE', 20),
        seconds: env('BENCH_FANOUT_SECONDS', 2),
      }
    : {
        sockets: env('BENCH_FANOUT_SOCKETS', 1000),
        rate: env('BENCH_FANOUT_RATE', 25),
        seconds: env('BENCH_FANOUT_SECONDS', 15),
      };
}

async function seed(server: ChildHandle, sockets: number): Promise<Seeded> {
  const users = await server.call<{ id: string; token: string }[]>('users', {
    count: sockets,
    label: `fan${randomBytes(2).toString('hex')}`,
  });
  const [admin] = await server.call<{ id: string; token: string }[]>('users', {
    count: 1,
    role: 'admin',
    label: `fanadmin${randomBytes(2).toString('hex')}`,
  });
  const botCount = Math.max(1, Math.round(sockets * 0.1));
  const groupCount = Math.floor((sockets - botCount) / GROUP_SIZE);
  const groupSpecs = Array.from({ length: groupCount }, (_, g) =>
    Array.from({ length: GROUP_SIZE }, (_, j) => g * GROUP_SIZE + j),
  );
  const botUsers = Array.from({ length: sockets - groupCount * GROUP_SIZE }, (_, j) => groupCount * GROUP_SIZE + j);
  const groups = await mapLimit(groupSpecs, 8, async (members, g) => {
    const body = await must([201], server.url, 'POST', '/api/conversations', users[members[0]!]!.token, {
      kind: 'group',
      title: `Fan-out group ${g}`,
      memberIds: members.slice(1).map((m) => users[m]!.id),
    });
    return { id: body.conversation.id as string, members };
  });
  const bot = await must([201], server.url, 'POST', '/api/bots', admin!.token, {
    slug: `fan-bot-${randomBytes(3).toString('hex')}`,
    name: 'Fan-out bot',
    collectionIds: [],
  });
  const conversations: Record<string, string[]> = {};
  for (const g of groups) conversations[g.id] = g.members.map((m) => users[m]!.id);
  await mapLimit(botUsers, 8, async (u) => {
    const body = await must([200, 201], server.url, 'POST', '/api/conversations', users[u]!.token, {
      botId: bot.bot.id,
    });
    conversations[body.conversation.id] = [users[u]!.id];
  });
  return { users, groups, botUsers, conversations };
}

/** Connects every user, reads idle memory, drives the traffic, counts what arrived. */
async function drive(
  server: ChildHandle,
  seeded: Seeded,
  s: ReturnType<typeof settings>,
  log: (m: string) => void,
  options: { profileFile?: string; trace?: boolean } = {},
): Promise<TrafficResult & { trace?: SqlTrace }> {
  const { profileFile } = options;
  const n = seeded.users.length;
  const sendAt: number[] = [];
  const expectedFor: Set<number>[] = []; // seq → receiving user indexes still expected
  const seen: Set<number>[] = Array.from({ length: n }, () => new Set());
  const latencies: number[] = [];
  let duplicated = 0;
  let leaked = 0;
  let received = 0;
  const isBotUser = new Set(seeded.botUsers);
  const onFrame = (i: number, frame: string) => {
    if (!frame.startsWith('{"type":"message.created"')) return;
    const m = FRAME_BODY.exec(frame);
    if (!m) return;
    const seq = Number(m[1]);
    if (isBotUser.has(i)) {
      leaked += 1;
      return;
    }
    const expected = expectedFor[seq];
    if (!expected) return;
    if (seen[i]!.has(seq)) {
      duplicated += 1;
      return;
    }
    seen[i]!.add(seq);
    if (expected.delete(i)) {
      received += 1;
      latencies.push(performance.now() - sendAt[seq]!);
    }
  };
  // Warm the allocator and the upgrade path with a tenth of the sockets first, so the memory read
  // before the real connections is not one taken while start-up garbage is still being returned.
  const warm = await openSockets(
    server.url,
    seeded.users.slice(0, Math.ceil(n / 10)).map((u) => u.token),
    () => {},
  );
  await warm.close();
  await sleep(300);
  await server.memory();
  const before = await server.memory();
  const pool = await openSockets(
    server.url,
    seeded.users.map((u) => u.token),
    onFrame,
  );
  await sleep(n > 100 ? 1000 : 200);
  const idle = await server.memory();
  log(`  ${n} sockets connected; server RSS +${((idle.vmRss - before.vmRss) / 2 ** 20).toFixed(1)} MiB`);

  const random = rng(42);
  const deadline = Date.now() + s.seconds * 1000;
  const interval = 1000 / s.rate;
  const inflight = new Set<Promise<void>>();
  let postErrors = 0;
  let seq = 0;
  const started = performance.now();
  if (profileFile) await server.call('profileStart');
  if (options.trace) await server.call('traceStart');
  const cpuBefore = await server.call<NodeJS.CpuUsage>('cpu');
  await server.call('gcStart');
  while (Date.now() < deadline) {
    const due = Math.floor((performance.now() - started) / interval) + 1;
    while (seq < due) {
      const group = seeded.groups[seq % seeded.groups.length]!;
      const sender = group.members[Math.floor(random() * group.members.length)]!;
      const mySeq = seq++;
      expectedFor[mySeq] = new Set(group.members.filter((m) => m !== sender));
      sendAt[mySeq] = performance.now();
      const p = fetch(`${server.url}/api/conversations/${group.id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${seeded.users[sender]!.token}` },
        body: JSON.stringify({ body: `fan:${mySeq}`, clientId: `fan-${mySeq}` }),
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 201) postErrors += 1;
        })
        .catch(() => {
          postErrors += 1;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await sleep(Math.max(1, interval / 2));
  }
  const sendSeconds = (performance.now() - started) / 1000;
  await Promise.all(inflight);
  // Drain: everything still expected has up to 10 s to arrive.
  const drainUntil = Date.now() + 10_000;
  while (Date.now() < drainUntil && expectedFor.some((e) => e && e.size)) await sleep(50);
  const cpuAfter = await server.call<NodeJS.CpuUsage>('cpu');
  const gc = await server.call<TrafficResult['gc']>('gcStop');
  if (profileFile) await server.call('profileStop', { file: profileFile });
  const trace = options.trace ? await server.call<SqlTrace>('traceStop') : undefined;
  const after = await server.memory();
  await pool.close();
  const expected = expectedFor.reduce((a, e) => a + (e ? e.size : 0), 0);
  const totalExpected = received + expected;
  return {
    latencies,
    sent: seq,
    expected: totalExpected,
    received,
    lost: expected,
    duplicated,
    leaked,
    postErrors,
    idleKbPerSocketRss: (idle.vmRss - before.vmRss) / 1024 / n,
    idleKbPerSocketHeap: (idle.heapUsed + idle.external - before.heapUsed - before.external) / 1024 / n,
    gc,
    cpuMsPerMessage: (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000 / Math.max(1, seq),
    memory: { before, idle, after },
    achievedRate: seq / sendSeconds,
    ...(trace ? { trace } : {}),
  };
}

export const fanout: Scenario = {
  name: 'fanout',
  async run(ctx: ScenarioContext): Promise<ScenarioResult> {
    const s = settings(ctx.quick);
    const { deployment, log } = ctx;
    const enclave = await startChild('enclave-server.ts', deployment.env);
    let seeded: Seeded;
    let baselineResult: TrafficResult;
    let enclaveResult: TrafficResult;
    try {
      log(
        `  seeding ${s.sockets} users, ${Math.floor((s.sockets * 0.9) / GROUP_SIZE)} groups of ${GROUP_SIZE}, bot conversations…`,
      );
      seeded = await seed(enclave, s.sockets);
      const baseline = await startChild('ws-baseline.ts', {});
      try {
        await baseline.call('setup', { users: seeded.users, conversations: seeded.conversations });
        await deployment.quiesce();
        log(`  baseline (raw ws): ${s.rate} msg/s for ${s.seconds} s`);
        baselineResult = await drive(baseline, seeded, s, log);
      } finally {
        await baseline.stop();
      }
      await deployment.quiesce();
      log(`  Enclave (${deployment.backend}): ${s.rate} msg/s for ${s.seconds} s`);
      const profileFile = ctx.profile ? path.join(RESULTS_DIR, `fanout-${deployment.backend}.cpuprofile`) : undefined;
      enclaveResult = await drive(enclave, seeded, s, log, { profileFile, trace: true });
      const profile = profileFile ? await summarizeProfile(profileFile) : undefined;
      const e = summarize(enclaveResult.latencies);
      const trace = (enclaveResult as { trace?: SqlTrace }).trace;
      const sqlPerMessage = trace
        ? trace.statements.reduce((a, st) => a + st.totalMs, 0) / Math.max(1, enclaveResult.sent)
        : Number.NaN;
      const queriesPerMessage = trace
        ? trace.statements.reduce((a, st) => a + st.n, 0) / Math.max(1, enclaveResult.sent)
        : Number.NaN;
      const b = summarize(baselineResult.latencies);
      return {
        scenario: 'fanout',
        backend: deployment.backend,
        quick: ctx.quick,
        baseline: `raw \`ws\` broadcast server (child process), same ${s.sockets} sockets, memberships and ${s.rate} msg/s for ${s.seconds} s`,
        rows: [
          { metric: 'send→receive p50', value: e.p50, unit: 'ms', baseline: b.p50, ratio: e.p50 / b.p50 },
          { metric: 'send→receive p95', value: e.p95, unit: 'ms', baseline: b.p95, ratio: e.p95 / b.p95 },
          {
            metric: 'send→receive p99',
            value: e.p99,
            unit: 'ms',
            baseline: b.p99,
            ratio: e.p99 / b.p99,
            target: '≤ 3×',
            ok: e.p99 / b.p99 <= 3,
          },
          { metric: 'deliveries', value: enclaveResult.received, unit: '', baseline: baselineResult.received },
          {
            metric: 'lost',
            value: enclaveResult.lost,
            unit: '',
            baseline: baselineResult.lost,
            target: '0',
            ok: enclaveResult.lost === 0,
          },
          {
            metric: 'duplicated',
            value: enclaveResult.duplicated,
            unit: '',
            baseline: baselineResult.duplicated,
            target: '0',
            ok: enclaveResult.duplicated === 0,
          },
          {
            metric: 'frames at non-members',
            value: enclaveResult.leaked,
            unit: '',
            baseline: baselineResult.leaked,
            target: '0',
            ok: enclaveResult.leaked === 0,
          },
          {
            metric: 'messages/s achieved',
            value: enclaveResult.achievedRate,
            unit: '/s',
            baseline: baselineResult.achievedRate,
          },
          {
            metric: 'RSS per idle socket',
            value: enclaveResult.idleKbPerSocketRss,
            unit: 'KB',
            baseline: baselineResult.idleKbPerSocketRss,
            ratio: enclaveResult.idleKbPerSocketRss / baselineResult.idleKbPerSocketRss,
            target: '≤ 50 KB',
            // RSS can fall while the sockets connect (the allocator hands pages back after a GC):
            // a negative growth measures nothing, so it neither meets nor misses the target.
            ...(enclaveResult.idleKbPerSocketRss > 0
              ? { ok: enclaveResult.idleKbPerSocketRss <= 50 }
              : { note: 'RSS fell while the sockets connected (memory returned to the OS); see heap+external' }),
          },
          {
            metric: 'heap+external per idle socket',
            value: enclaveResult.idleKbPerSocketHeap,
            unit: 'KB',
            baseline: baselineResult.idleKbPerSocketHeap,
            ratio: enclaveResult.idleKbPerSocketHeap / baselineResult.idleKbPerSocketHeap,
          },
        ],
        stages: {
          'SQL per message (ms, top statements)': sqlPerMessage,
          'statements per message': queriesPerMessage,
          'baseline send→receive p50 (ms)': b.p50,
          'Enclave send→receive p50 (ms)': e.p50,
          'baseline server CPU per message (ms)': baselineResult.cpuMsPerMessage,
          'Enclave server CPU per message (ms)': enclaveResult.cpuMsPerMessage,
          'baseline GC pauses: longest (ms)': baselineResult.gc.maxMs,
          'Enclave GC pauses: longest (ms)': enclaveResult.gc.maxMs,
          'Enclave GC pauses over 5 ms': enclaveResult.gc.over5Ms,
          'Enclave major (mark-compact) GCs': enclaveResult.gc.major,
        },
        slowestStage: trace?.statements[0]
          ? `SQL: ${trace.statements[0].sql} (${trace.statements[0].meanMs} ms × ${trace.statements[0].n})`
          : undefined,
        details: {
          settings: s,
          enclave: { ...enclaveResult, latencies: e },
          baseline: { ...baselineResult, latencies: b },
          postErrors: { enclave: enclaveResult.postErrors, baseline: baselineResult.postErrors },
          ...(profile ? { profile } : {}),
        },
        machine: machineInfo(),
      };
    } finally {
      await enclave.stop();
    }
  },
};
