import type { Queryable } from '../db/database.ts';
import { createLoginThrottleRepository, type ThrottleRow } from './login-throttle.repository.ts';

const WINDOW_MS = 15 * 60_000;
const MAX_LOCK_MS = 15 * 60_000;

/**
 * Three counters of failed sign-ins, each over a 15-minute window:
 * - one account from one address: 5 failures lock that pair for 1, 2, 4 … at most 15 minutes;
 * - one address, any account (password spraying): 100 failures lock the address for 15 minutes;
 * - one account, any address (a distributed guess): 50 failures lock the account for 15 minutes,
 *   except at addresses the account has signed in from before — otherwise an attacker could keep
 *   its owner out for good by failing 50 times every 15 minutes.
 * Every lock is bounded, and nobody can lock someone out for good. Counters key on the email as
 * typed, whether or not the account exists, so answers reveal nothing.
 *
 * An attempt is counted before its password is checked and given back when it was right, so
 * parallel guesses get no more tries than sequential ones.
 */
interface Rule {
  max: number;
  lockMs: (row: ThrottleRow) => number;
}

type Kind = 'pair' | 'ip' | 'account';

const RULES: Record<Kind, Rule> = {
  pair: { max: 5, lockMs: (row) => Math.min(60_000 * 2 ** Math.min(row.lockouts, 30), MAX_LOCK_MS) },
  ip: { max: 100, lockMs: () => MAX_LOCK_MS },
  account: { max: 50, lockMs: () => MAX_LOCK_MS },
};

function keys(ip: string, email: string): Record<Kind, string> {
  const account = email.trim().toLowerCase();
  return { pair: `pair:${account}|${ip}`, ip: `ip:${ip}`, account: `account:${account}` };
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A counted attempt: which counters reached their limit with it (they lock if the password was wrong). */
export type ThrottleAttempt = { allowed: true; reached: Kind[] } | { allowed: false; retryAfterSeconds: number };

const refuse = (until: number): { allowed: false; retryAfterSeconds: number } => ({
  allowed: false,
  retryAfterSeconds: Math.max(1, Math.ceil((until - Date.now()) / 1000)),
});

export function createLoginThrottle(db: Queryable) {
  const repo = createLoginThrottleRepository(db);
  return {
    /** A read before anything is counted: refuses while a lock that applies to this address holds. */
    async check(ip: string, email: string): Promise<ThrottleDecision> {
      const k = keys(ip, email);
      const rows = await repo.find(Object.values(k));
      const now = Date.now();
      let until = 0;
      for (const row of rows) {
        const end = row.locked_until?.getTime() ?? 0;
        if (end <= now) continue;
        if (row.key === k.account && (await repo.knownAddress(email, ip))) continue;
        until = Math.max(until, end);
      }
      return until > now ? refuse(until) : { allowed: true };
    },

    /** Counts the attempt on every counter; refuses it when a counter is locked or already past its limit. */
    async attempt(ip: string, email: string): Promise<ThrottleAttempt> {
      const k = keys(ip, email);
      let known: boolean | undefined;
      const exempt = async (kind: Kind) => kind === 'account' && (known ??= await repo.knownAddress(email, ip));
      const reached: Kind[] = [];
      let until = 0;
      for (const kind of Object.keys(k) as Kind[]) {
        const row = await repo.countAttempt(k[kind], WINDOW_MS);
        const { max, lockMs } = RULES[kind];
        const lockedUntil = row.locked_until?.getTime() ?? 0;
        if (lockedUntil > Date.now()) {
          if (!(await exempt(kind))) until = Math.max(until, lockedUntil);
        } else if (row.failures > max && !(await exempt(kind))) {
          // A parallel attempt got the last try: lock now rather than let this one guess too.
          const locked = await repo.lock(k[kind], new Date(Date.now() + lockMs(row)));
          until = Math.max(until, locked.getTime());
        } else if (row.failures >= max) {
          reached.push(kind);
        }
      }
      return until ? refuse(until) : { allowed: true, reached };
    },

    /** The password was wrong: counters that reached their limit with this attempt lock. */
    async failed(ip: string, email: string, attempt: { reached: Kind[] }): Promise<void> {
      const k = keys(ip, email);
      for (const kind of attempt.reached) {
        const [row] = await repo.find([k[kind]]);
        if (row) await repo.lock(k[kind], new Date(Date.now() + RULES[kind].lockMs(row)));
      }
    },

    /** A correct password clears the pair's history (and its escalation) and gives the attempt back to the wider counters. */
    async succeeded(ip: string, email: string): Promise<void> {
      const k = keys(ip, email);
      await repo.clear(k.pair);
      await repo.refund([k.ip, k.account]);
    },
  };
}
