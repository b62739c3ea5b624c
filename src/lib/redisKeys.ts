import { mastersOf, type RedisClient } from './redisClient.js';

/**
 * Deletes every key under `prefix:` with SCAN (never KEYS, which blocks Redis), on every master
 * of a cluster: the demo's reset and the tests' teardown. Returns how many keys went. On a
 * cluster the prefix is hash-tagged, so each batch lies in one slot and one DEL takes it.
 */
export async function deleteKeysUnder(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of await mastersOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await node.del(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}
