import { expect } from 'vitest';
import type { BusEvent } from '../../server/src/core/realtime/bus.ts';
import type { TestApp } from '../support/app.ts';
import { request, type ApiResponse } from '../support/http.ts';
import { until } from '../support/wait.ts';

/** Shared helpers of the identity suites (sign-in from a chosen address, cookies, error shape, bus events). */

let nextAddress = 0;

/**
 * A client address no other test in this file used. The app trusts loopback proxies, so an
 * X-Forwarded-For from the test client becomes `req.ip`; separate addresses keep the sign-in
 * throttle counters of separate tests apart.
 */
export function freshIp(): string {
  nextAddress += 1;
  return `10.77.${(nextAddress >> 8) & 255}.${nextAddress & 255}`;
}

export const fromIp = (ip: string): Record<string, string> => ({ 'x-forwarded-for': ip });

export function login(
  app: TestApp,
  email: string,
  password: string,
  options: { ip?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse> {
  return request(app.url, 'POST', '/api/auth/login', {
    body: { email, password },
    headers: { ...(options.ip ? fromIp(options.ip) : {}), ...options.headers },
  });
}

/** Signs in and returns the session token, failing the test on anything but 200. */
export async function signIn(
  app: TestApp,
  email: string,
  password: string,
  options: { ip?: string; headers?: Record<string, string> } = {},
) {
  const res = await login(app, email, password, options);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token as string;
}

/** The raw `Set-Cookie` line for the session cookie, if the response set one. */
export function sessionSetCookie(res: ApiResponse): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith('enclave_session='));
}

export const cookie = (token: string): Record<string, string> => ({ cookie: `enclave_session=${token}` });

/** Asserts the documented error shape `{error:{code,message}}` with this status (and code, when given). */
export function expectError(res: ApiResponse, status: number, code?: string) {
  expect(res.status, `${res.status} ${JSON.stringify(res.body)}`).toBe(status);
  expect(res.body).toEqual({
    error: expect.objectContaining({ code: code ?? expect.any(String), message: expect.any(String) }),
  });
}

/** Any 4xx in the error shape: bad input must never be a 5xx or a half-written success. */
export function expectClientError(res: ApiResponse, context: string) {
  expect(res.status, `${context}: ${res.status} ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${context}: ${res.status} ${JSON.stringify(res.body)}`).toBeLessThan(500);
  expect(res.body, context).toEqual({
    error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
  });
}

/** Records what the realtime bus carries (the hook the WebSocket layer uses to close sockets). */
export function recordBus(app: TestApp) {
  const events: BusEvent[] = [];
  const stop = app.services.bus.subscribe((event) => events.push(event));
  return {
    events,
    stop,
    waitFor(predicate: (event: BusEvent) => boolean, what: string, timeoutMs = 3000) {
      return until(() => events.find(predicate), what, timeoutMs, 10);
    },
  };
}

export async function sql<R = Record<string, unknown>>(
  app: TestApp,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  return (await app.services.db.query<R>(text, params)).rows;
}

export async function count(app: TestApp, table: string): Promise<number> {
  const rows = await sql<{ n: number }>(app, `SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A short random suffix for names unique within a run. */
export const suffix = () => Math.random().toString(36).slice(2, 8);
