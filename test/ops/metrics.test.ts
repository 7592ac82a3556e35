import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { redisUrl } from '../support/env.ts';
import { newBot, newUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { deleteKeys, uniquePrefix } from '../support/redis.ts';
import { ROOT } from '../support/spawn.ts';
import { sleep, until } from '../support/wait.ts';

/* The Grafana dashboard and the Prometheus scrape config against the /metrics of a running app. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('pglite');
});
afterAll(async () => app?.close());

/** name → type, from the # TYPE lines of a Prometheus text exposition. */
function exposed(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('/metrics and the monitoring files in docker/', () => {
  it('every metric the Grafana dashboard queries exists in /metrics', async () => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    const types = exposed(await res.text());
    const dashboard = JSON.parse(await readFile(path.join(ROOT, 'docker/grafana/dashboards/enclave.json'), 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: Any) => p.targets.map((t: Any) => t.expr));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\benclave_[a-z0-9_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThanOrEqual(12);
    const missing = [...used].filter((name) => {
      if (types.has(name)) return false;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return !(base !== name && ['histogram', 'summary'].includes(types.get(base) ?? ''));
    });
    expect(missing).toEqual([]);
    // Selectors on the scrape job name the job of docker/prometheus.yml.
    const prometheus = parse(await readFile(path.join(ROOT, 'docker/prometheus.yml'), 'utf8'));
    const jobs = prometheus.scrape_configs.map((j: Any) => j.job_name);
    for (const e of exprs) for (const m of e.matchAll(/job="([^"]+)"/g)) expect(jobs).toContain(m[1]);
  });

  it('reports queue depth, ingestion backlog and lag, the handoff queue and its wait, and the version', async () => {
    const admin = await newUser(app, { role: 'admin' });
    const employee = await newUser(app);
    // A conversation waiting for an agent since 90 seconds ago, and a document stuck in the queue for 2 minutes.
    const support = await request(app.url, 'POST', '/api/conversations', {
      token: employee.token,
      body: { kind: 'support' },
    });
    expect(support.status).toBe(201);
    await app.services.db.query(
      `UPDATE conversations SET status = 'queued', queued_at = now() - interval '90 seconds' WHERE id = $1`,
      [support.body.conversation.id],
    );
    const { rows } = await app.services.db.query<{ id: string }>(
      `INSERT INTO collections (name, created_by) VALUES ('metrics', $1) RETURNING id`,
      [admin.id],
    );
    await app.services.db.query(
      `INSERT INTO documents (collection_id, title, source, mime, sha256, status, updated_at) VALUES ($1, 'stuck', 'text', 'text/plain', 'abc', 'queued', now() - interval '120 seconds')`,
      [rows[0]!.id],
    );

    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(sample(text, 'enclave_handoff_waiting_conversations')).toBe(1);
    expect(sample(text, 'enclave_handoff_oldest_wait_seconds')).toBeGreaterThanOrEqual(89);
    expect(sample(text, 'enclave_ingestion_pending_documents', 'status="queued"')).toBe(1);
    expect(sample(text, 'enclave_ingestion_lag_seconds')).toBeGreaterThanOrEqual(119);
    expect(sample(text, 'enclave_queue_jobs', 'name="ingest-document",state="waiting"')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'enclave_queue_jobs', 'name="retention",state="failed"')).toBe(0);
    expect(text).toMatch(/^enclave_build_info\{version="\d+\.\d+\.\d+",node="v\d+\.\d+\.\d+"\} 1$/m);
    expect(text).toMatch(
      /^enclave_http_request_duration_seconds_count\{method="POST",route="\/api\/conversations",status="201"\} \d+$/m,
    );
  });
});

/** The sum of a counter's samples with these labels over every /metrics text given. */
async function counted(urls: string[], name: string, labels: string): Promise<number> {
  const texts = await Promise.all(urls.map(async (url) => (await fetch(`${url}/metrics`)).text()));
  return texts.reduce((sum, text) => sum + (sample(text, name, labels) ?? 0), 0);
}

describe('conversation counters from the domain events', () => {
  it('counts a keyword handoff, the messages by sender and the bot answers by outcome', async () => {
    const employee = await newUser(app);
    const botId = await newBot(app);
    const post = (path: string, body: unknown) => request(app.url, 'POST', path, { token: employee.token, body });
    const handoff = 'transition="handoff",to="queued",reason="keyword"';
    const before = await counted([app.url], 'enclave_conversation_transitions_total', handoff);
    const unanswered = await counted([app.url], 'enclave_bot_answers_total', 'outcome="no_answer"');

    const asked = (await post('/api/conversations', { botId })).body.conversation.id;
    expect((await post(`/api/conversations/${asked}/messages`, { body: 'What is the parking policy?' })).status).toBe(
      201,
    );
    await until(
      async () => (await counted([app.url], 'enclave_bot_answers_total', 'outcome="no_answer"')) === unanswered + 1,
      'the counter',
    );
    const handed = (await post('/api/conversations', { botId })).body.conversation.id;
    expect((await post(`/api/conversations/${handed}/messages`, { body: 'I want to talk to a human' })).status).toBe(
      201,
    );

    await until(
      async () => (await counted([app.url], 'enclave_conversation_transitions_total', handoff)) === before + 1,
      'the counter',
    );
    expect(await counted([app.url], 'enclave_messages_total', 'sender="user"')).toBeGreaterThanOrEqual(2);
    expect(await counted([app.url], 'enclave_messages_total', 'sender="bot"')).toBeGreaterThanOrEqual(1);
  });

  // Every server hears every event over Redis; counted by each, Prometheus' sum would double.
  describe.skipIf(!redisUrl || !backends.includes('postgres'))('two servers sharing Redis and Postgres', () => {
    let a: TestApp;
    let b: TestApp;
    const prefix = uniquePrefix('metrics');
    beforeAll(async () => {
      a = await startTestApp('postgres', { redisUrl, env: { REDIS_PREFIX: prefix } });
      b = await startTestApp('postgres', { redisUrl, env: { REDIS_PREFIX: prefix }, databaseUrl: a.databaseUrl! });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await deleteKeys(redisUrl!, prefix);
    });

    it('counts a handoff on one server once in the sum over both', async () => {
      const employee = await newUser(a);
      const botId = await newBot(a);
      const id = (await request(b.url, 'POST', '/api/conversations', { token: employee.token, body: { botId } })).body
        .conversation.id;
      const handed = await request(b.url, 'POST', `/api/conversations/${id}/handoff`, {
        token: employee.token,
        body: {},
      });
      expect(handed.status).toBe(200);
      const labels = 'transition="handoff",to="queued",reason="user_request"';
      await until(
        async () => (await counted([a.url, b.url], 'enclave_conversation_transitions_total', labels)) >= 1,
        'the counter',
      );
      await sleep(300); // the copy that reaches server A over Redis must not count again
      expect(await counted([a.url, b.url], 'enclave_conversation_transitions_total', labels)).toBe(1);
      expect(await counted([a.url], 'enclave_conversation_transitions_total', labels)).toBe(0);
    });
  });
});

describe('METRICS_TOKEN on the main port', () => {
  let guarded: TestApp;
  beforeAll(async () => {
    guarded = await startTestApp('pglite', { env: { METRICS_TOKEN: 'scraper-token-0123456789' } });
  });
  afterAll(async () => guarded?.close());

  it('refuses a scrape without the bearer token or with another one, and serves the one that has it', async () => {
    const scrape = (authorization?: string) =>
      fetch(`${guarded.url}/metrics`, authorization ? { headers: { authorization } } : {});
    const refused = await scrape();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Any).error.code).toBe('unauthorized');
    expect((await scrape('Bearer scraper-token-01234567890')).status).toBe(401);
    const served = await scrape('Bearer scraper-token-0123456789');
    expect(served.status).toBe(200);
    expect(await served.text()).toMatch(/^enclave_build_info\{/m);
  });
});
