/** A queue prefix per test: tests share one Redis without seeing each other's keys. */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { inject } from 'vitest';

import { deleteKeysUnder } from '../../src/lib/redisKeys.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

export function uniquePrefix(label = 't'): string {
  return `cs-test-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under a prefix (a test's teardown; proves nothing leaked into others). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
