import { z } from 'zod';

// The most common choices that still pass a length rule; refused outright.
const COMMON = new Set([
  'password1234',
  'password12345',
  'password123456',
  '123456789012',
  '1234567890123',
  'qwertyuiop12',
  'qwerty123456',
  'iloveyou1234',
  'administrator',
  'letmein12345',
  'welcome12345',
  'changeme1234',
  'passw0rd1234',
  'admin1234567',
  'enclave12345',
  'abcdefghijkl',
  'p@ssw0rd1234',
  '11111111111111',
]);

/**
 * At least 12 characters (NIST 800-63B favours length over composition rules), at most 256 (the
 * hash input stays bounded), not a well-known password, not the account's own email, and not one
 * character repeated.
 */
export const passwordSchema = z
  .string()
  .min(12, 'Password must be at least 12 characters')
  .max(256, 'Password must be at most 256 characters')
  .refine((p) => !COMMON.has(p.toLowerCase()), 'This password is too common')
  .refine((p) => new Set(p).size > 2, 'Password must not be one repeated character');

export function passwordProblem(password: string, email: string): string | undefined {
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) return parsed.error.issues[0]?.message;
  if (password.toLowerCase().includes(email.toLowerCase().split('@')[0]!) && email.split('@')[0]!.length >= 4) {
    return 'Password must not contain your email name';
  }
  return undefined;
}
