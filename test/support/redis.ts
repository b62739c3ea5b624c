/** A queue prefix per test: tests share one Redis without seeing each other's keys. */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import { inject } from 'vitest';

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
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
