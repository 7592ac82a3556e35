import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestApp, type TestApp } from '../support/app.ts';
import { newUser } from '../support/fixtures.ts';
import { request } from '../support/http.ts';
import { ROOT } from '../support/spawn.ts';

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
    const support = await request(app.url, 'POST', '/api/conversations', { token: employee.token, body: { kind: 'support' } });
    expect(support.status).toBe(201);
    await app.services.db.query(`UPDATE conversations SET status = 'queued', queued_at = now() - interval '90 seconds' WHERE id = $1`, [support.body.conversation.id]);
    const { rows } = await app.services.db.query<{ id: string }>(`INSERT INTO collections (name, created_by) VALUES ('metrics', $1) RETURNING id`, [admin.id]);
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
    expect(text).toMatch(/^enclave_http_request_duration_seconds_count\{method="POST",route="\/api\/conversations",status="201"\} \d+$/m);
  });
});
