import type { Redis } from 'ioredis';

/**
 * Deletes every key under `prefix:` with SCAN (never KEYS, which blocks Redis): the demo's reset
 * and the tests' teardown. Returns how many keys went.
 */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
