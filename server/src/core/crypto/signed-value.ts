import { createHmac, timingSafeEqual } from 'node:crypto';

/** A JSON value with an HMAC and an expiry, for short-lived state kept in a cookie. */
export function signValue(secret: string, value: unknown, ttlMs: number): string {
  const payload = Buffer.from(JSON.stringify({ v: value, exp: Date.now() + ttlMs })).toString('base64url');
  const mac = createHmac('sha256', secret).update(payload).digest('base64url');
  return `${payload}.${mac}`;
}

/** The value, or undefined when the MAC is wrong, the format is off or it expired. */
export function verifySignedValue<T>(secret: string, signed: string | undefined): T | undefined {
  if (!signed) return undefined;
  const [payload, mac] = signed.split('.');
  if (!payload || !mac) return undefined;
  const expected = createHmac('sha256', secret).update(payload).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const { v, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { v: T; exp: number };
    return exp > Date.now() ? v : undefined;
  } catch {
    return undefined;
  }
}
