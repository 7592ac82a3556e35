import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { compose } from '../../server/src/composition.ts';
import { loadConfig } from '../../server/src/config.ts';
import { generateToken, hashToken } from '../../server/src/core/auth/token.ts';
import type { Database, Queryable } from '../../server/src/core/db/database.ts';
import { resumePendingIngestion } from '../../server/src/core/knowledge/knowledge.module.ts';
import { createLogger } from '../../server/src/core/logger.ts';
import { createApp } from '../../server/src/http/app.ts';
import { createGateway } from '../../server/src/ws/gateway.ts';
import { loadRetrievalCorpus, type LoadCorpusArgs } from '../scenarios/retrieval-data.ts';
import { halfSplit, timeHybridSql, vectorRecall, type TimedHybridArgs } from '../scenarios/retrieval-timing.ts';
import { serveRpc } from './rpc.ts';

/**
 * The Enclave server as the bench runs it: a child process of its own (so its memory and CPU are
 * measured apart from the load generator), wired exactly as `server/src/main.ts all` wires it —
 * services, domain, Express app, WebSocket gateway, jobs processed in-process or by BullMQ — plus
 * an IPC channel for set-up the API has no fast path for (thousands of signed-in users without an
 * argon2 hash each, a 100k-chunk bulk load) and for readings (memory after GC, CPU profiles).
 */
/**
 * Wraps the database's query/transaction (the one object every repository, the domain and the
 * processors share) so a window of traffic can be broken down by SQL statement: count, total and
 * mean time, the time waiting for a pooled connection included — a timing breakdown by stage.
 */
function traceQueries(db: Database) {
  let stats: Map<string, { n: number; ms: number }> | undefined;
  let txWait: { n: number; ms: number } = { n: 0, ms: 0 };
  // Normalised once per distinct statement: a regex over every query's text would add its own
  // CPU to the very latencies the trace runs beside.
  const keys = new Map<string, string>();
  const record = (sql: string, ms: number) => {
    if (!stats) return;
    let key = keys.get(sql);
    if (key === undefined) keys.set(sql, (key = sql.replace(/\s+/g, ' ').trim().slice(0, 90)));
    const s = stats.get(key) ?? { n: 0, ms: 0 };
    s.n += 1;
    s.ms += ms;
    stats.set(key, s);
  };
  const wrap = (q: Queryable): Queryable => ({
    async query(sql, params) {
      const t = performance.now();
      try {
        return await q.query(sql, params);
      } finally {
        record(sql, performance.now() - t);
      }
    },
    exec: (sql) => q.exec(sql),
  });
  const query = db.query.bind(db);
  const transaction = db.transaction.bind(db);
  const wrapped = wrap({ query, exec: db.exec.bind(db) });
  db.query = wrapped.query as Database['query'];
  db.transaction = (fn) => {
    const t = performance.now();
    let entered = false;
    return transaction((tx) => {
      if (!entered && stats) {
        entered = true;
        txWait.n += 1;
        txWait.ms += performance.now() - t;
      }
      return fn(wrap(tx));
    });
  };
  return {
    start() {
      stats = new Map();
      txWait = { n: 0, ms: 0 };
      return true;
    },
    stop() {
      const out = [...(stats ?? [])].map(([sql, s]) => ({
        sql,
        n: s.n,
        totalMs: Math.round(s.ms),
        meanMs: Math.round((s.ms / s.n) * 100) / 100,
      }));
      stats = undefined;
      return {
        statements: out.sort((a, b) => b.totalMs - a.totalMs).slice(0, 15),
        transactionStart: { n: txWait.n, meanMs: txWait.n ? Math.round((txWait.ms / txWait.n) * 100) / 100 : 0 },
      };
    },
  };
}

const SECRET = 'bench-secret-bench-secret-bench-secret-0000';

async function main() {
  const config = loadConfig({ ...process.env, HOST: '127.0.0.1', PORT: '0', SESSION_SECRET: SECRET });
  const logger = createLogger(config.logLevel, { role: 'bench' });
  const composition = await compose(config, logger, { secret: SECRET });
  const { services, domain } = composition;
  await services.jobs.startProcessing();
  await resumePendingIngestion(services.db, services.jobs, logger);
  const app = createApp(services, domain);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const gateway = createGateway(services, domain);
  gateway.attach(server);
  const { db } = services;
  const trace = traceQueries(db);

  serveRpc({
    /** Users (optionally in groups), each with a live session; returns ids and bearer tokens. */
    async users(raw) {
      const args = raw as { count: number; role?: string; groupIds?: string[]; label?: string };
      const label = args.label ?? randomBytes(3).toString('hex');
      const emails = Array.from({ length: args.count }, (_, i) => `bench-${label}-${i}@example.test`);
      const { rows } = await db.query<{ id: string; email: string }>(
        `INSERT INTO users (email, name, role) SELECT e, split_part(e, '@', 1), $2 FROM unnest($1::text[]) AS e RETURNING id, email`,
        [emails, args.role ?? 'employee'],
      );
      const byEmail = new Map(rows.map((r) => [r.email, r.id]));
      const ids = emails.map((e) => byEmail.get(e)!);
      const tokens = ids.map(() => generateToken('session'));
      await db.query(
        `INSERT INTO sessions (user_id, token_hash, ip, user_agent, expires_at)
         SELECT u, h, '127.0.0.1', 'enclave-bench', now() + interval '1 day' FROM unnest($1::uuid[], $2::text[]) AS x(u, h)`,
        [ids, tokens.map((t) => hashToken(SECRET, t))],
      );
      for (const groupId of args.groupIds ?? []) {
        await db.query(`INSERT INTO user_groups (user_id, group_id) SELECT u, $2 FROM unnest($1::uuid[]) AS u`, [
          ids,
          groupId,
        ]);
      }
      return ids.map((id, i) => ({ id, token: tokens[i]! }));
    },
    async sql(raw) {
      const { sql, params } = raw as { sql: string; params?: unknown[] };
      return (await db.query(sql, params ?? [])).rows;
    },
    loadCorpus: (raw) => loadRetrievalCorpus(db, raw as LoadCorpusArgs),
    /** The hybrid SQL timed inside this process (the embedded backend's baseline: PGlite has no wire protocol). */
    timedHybrid: (raw) => timeHybridSql(db, raw as TimedHybridArgs),
    recall: (raw) => vectorRecall(db, raw as Parameters<typeof vectorRecall>[1]),
    halfSplit: (raw) => halfSplit(db, raw as Parameters<typeof halfSplit>[1]),
    sockets: () => gateway.size,
    traceStart: () => trace.start(),
    traceStop: () => trace.stop(),
    async stop() {
      gateway.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await composition.close(3000).catch(() => {});
      setImmediate(() => process.exit(0));
      return true;
    },
  });
  const { port } = server.address() as AddressInfo;
  process.send?.({
    ready: true,
    url: `http://127.0.0.1:${port}`,
    database: db.kind,
    jobs: services.jobs.kind,
    bus: services.bus.kind,
  });
}

main().catch((error: unknown) => {
  process.send?.({ failed: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
