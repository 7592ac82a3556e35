import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/databases.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { request } from '../support/http.ts';

describe.each(backends)('HTTP skeleton on %s', (backend) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(backend);
  });
  afterAll(() => app?.close());

  it('answers liveness and readiness with the checks it made', async () => {
    expect((await request(app.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(app.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', queue: 'ok', realtime: 'ok' } });
  });

  it('gives unknown API routes a JSON 404 in the error shape, with a request id', async () => {
    const res = await request(app.url, 'GET', '/api/does-not-exist', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'No route for GET /api/does-not-exist' } });
  });

  it('rejects malformed and oversized JSON with a 4xx error, never a 500', async () => {
    const malformed = await request(app.url, 'POST', '/api/anything', { raw: '{"email": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('malformed_json');

    const huge = await request(app.url, 'POST', '/api/anything', { body: { text: 'x'.repeat(2 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
  });

  it('sends security headers', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('exposes Prometheus metrics including HTTP latency by route', async () => {
    await fetch(`${app.url}/healthz`);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(
      /enclave_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/,
    );
    expect(text).toContain('enclave_queue_jobs{name="purge-sessions",state="waiting"}');
  });

  it('reports not ready, with the failing check, when the database is gone', async () => {
    const other = await startTestApp(backend);
    await other.services.db.close();
    const res = await request(other.url, 'GET', '/readyz');
    expect(res.status).toBe(503);
    const body = res.body;
    expect(body.status).toBe('unavailable');
    expect(body.checks.database).not.toBe('ok');
    expect(body.checks.queue).toBe('ok');
    await other.close();
  });
});
