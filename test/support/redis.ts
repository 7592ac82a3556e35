import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** A Redis key prefix no other test or run uses, so queues and channels never see each other's data. */
export function uniquePrefix(label: string): string {
  return `enclave-test-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix:` (tests clean up after themselves; CI's Redis is shared by runs). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
