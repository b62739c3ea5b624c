/**
 * A queue prefix per test: tests share one Redis without seeing each other's keys. Tests run
 * against one Redis server (`single`) or the local three-master Redis Cluster global setup
 * starts (`cluster`); a test that matters on both takes the mode as a parameter.
 */
import { randomBytes } from 'node:crypto';

import { inject } from 'vitest';

import { connectRedis } from '../../src/lib/redisClient.js';
import { deleteKeysUnder } from '../../src/lib/redisKeys.js';

export type RedisMode = 'single' | 'cluster';
export const REDIS_MODES: readonly RedisMode[] = ['single', 'cluster'];

export function redisUrl(mode: RedisMode = 'single'): string {
  return mode === 'cluster' ? inject('redisClusterUrl') : inject('redisUrl');
}

/** On a cluster the prefix is a hash tag, as production must use there. */
export function uniquePrefix(label = 't', mode: RedisMode = 'single'): string {
  const prefix = `cs-test-${label}-${randomBytes(4).toString('hex')}`;
  return mode === 'cluster' ? `{${prefix}}` : prefix;
}

/** Deletes every key under a prefix (a test's teardown; proves nothing leaked into others). */
export async function deletePrefix(prefix: string, mode: RedisMode = 'single'): Promise<void> {
  const redis = connectRedis(redisUrl(mode), { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
