import type { Actor } from '../policy/actor.ts';

export interface CachedActor {
  actor: Actor;
  /** The credential's last recorded use (touched at most once a minute). */
  lastUsedAt: Date | null;
  /** When the credential itself expires (never cached past it); null: it does not. */
  expiresAt: Date | null;
}

/**
 * Who a session or API token belongs to, remembered for a short while: every signed-in request
 * and every chat message starts by resolving its credential, and the lookup (credential, user,
 * groups) was the slowest statement on that path. Correctness comes from forgetting, not from the
 * TTL: the auth service drops a user's entries on every bus event that changes what their actor
 * says (revocation, disable, role, groups) on every server instance, and everything when the bus
 * may have missed events (a Redis reconnect). The TTL only bounds what a lost event could leave.
 */
export function createActorCache(options: { ttlMs: number; maxEntries: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const entries = new Map<string, CachedActor & { until: number }>();
  // Bumped by every forget: a lookup that started before a change must not store what it read.
  let version = 0;
  return {
    /** Pass to `set` what this was when the database lookup began. */
    get version(): number {
      return version;
    },
    get(credentialHash: string): CachedActor | undefined {
      const entry = entries.get(credentialHash);
      if (!entry) return undefined;
      if (entry.until <= now()) {
        entries.delete(credentialHash);
        return undefined;
      }
      return entry;
    },
    set(credentialHash: string, value: CachedActor, readAtVersion: number): void {
      if (readAtVersion !== version) return;
      const until = Math.min(now() + options.ttlMs, value.expiresAt?.getTime() ?? Infinity);
      entries.delete(credentialHash);
      // Oldest first out: a Map iterates in insertion order.
      if (entries.size >= options.maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(credentialHash, { ...value, until });
    },
    forgetUsers(userIds: readonly string[]): void {
      version += 1;
      const gone = new Set(userIds);
      for (const [key, entry] of entries) if (gone.has(entry.actor.id)) entries.delete(key);
    },
    clear(): void {
      version += 1;
      entries.clear();
    },
    get size(): number {
      return entries.size;
    },
  };
}
