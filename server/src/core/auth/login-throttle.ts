import type { Queryable } from '../db/database.ts';
import { createLoginThrottleRepository, type ThrottleRow } from './login-throttle.repository.ts';

const WINDOW_MS = 15 * 60_000;
const MAX_LOCK_MS = 15 * 60_000;

/**
 * Three counters of failed sign-ins, each over a 15-minute window:
 * - one account from one address: 5 failures lock that pair for 1, 2, 4 … at most 15 minutes;
 * - one address, any account (password spraying): 100 failures lock the address for 15 minutes;
 * - one account, any address (a distributed guess): 50 failures lock the account for 15 minutes.
 * Every lock is bounded, and the victim's own address is only blocked by the slow account-wide
 * counter, so nobody can lock someone out for good. Counters key on the email as typed, whether
 * or not the account exists, so answers reveal nothing.
 */
interface Rule {
  max: number;
  lockMs: (row: ThrottleRow) => number;
}

const RULES: Record<'pair' | 'ip' | 'account', Rule> = {
  pair: { max: 5, lockMs: (row) => Math.min(60_000 * 2 ** row.lockouts, MAX_LOCK_MS) },
  ip: { max: 100, lockMs: () => MAX_LOCK_MS },
  account: { max: 50, lockMs: () => MAX_LOCK_MS },
};

function keys(ip: string, email: string) {
  const account = email.trim().toLowerCase();
  return { pair: `pair:${account}|${ip}`, ip: `ip:${ip}`, account: `account:${account}` };
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export function createLoginThrottle(db: Queryable) {
  const repo = createLoginThrottleRepository(db);
  return {
    async check(ip: string, email: string): Promise<ThrottleDecision> {
      const rows = await repo.find(Object.values(keys(ip, email)));
      const now = Date.now();
      const until = Math.max(0, ...rows.map((r) => r.locked_until?.getTime() ?? 0));
      return until > now ? { allowed: false, retryAfterSeconds: Math.ceil((until - now) / 1000) } : { allowed: true };
    },
    async recordFailure(ip: string, email: string): Promise<void> {
      for (const [kind, key] of Object.entries(keys(ip, email)) as [keyof typeof RULES, string][]) {
        const row = await repo.recordFailure(key, WINDOW_MS);
        if (row.failures >= RULES[kind].max) await repo.lock(key, new Date(Date.now() + RULES[kind].lockMs(row)));
      }
    },
    /** A correct password clears the pair's history (and its escalation); the wider counters keep counting. */
    async recordSuccess(ip: string, email: string): Promise<void> {
      await repo.clear(keys(ip, email).pair);
    },
  };
}
