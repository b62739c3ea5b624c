/**
 * The shared rate limit against the real Redis: two limiter instances (two daemons) on two
 * connections share one key, and together stay within the rate (no burst on top); on one server and
 * on a Redis Cluster (the GCRA script routed by its one key).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { RedisRateLimiter } from '../../src/agent-engine/rate-limiter.js';
import { RetryableError } from '../../src/lib/errors.js';
import { connectRedis, type RedisClient } from '../../src/lib/redisClient.js';
import { deletePrefix, REDIS_MODES, redisUrl, uniquePrefix } from '../support/redis.js';

/** Acquires on `limiter` from `workers` loops until `endAt`; returns completion times. */
async function drive(limiter: RedisRateLimiter, workers: number, endAt: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (;;) {
        await limiter.acquire();
        const at = performance.now();
        if (at > endAt) return;
        times.push(at);
      }
    }),
  );
  return times;
}

describe.each(REDIS_MODES)('RedisRateLimiter on %s Redis', (mode) => {
  const prefix = uniquePrefix('ae-rate', mode);
  const connections: RedisClient[] = [];

  beforeAll(() => {
    for (let i = 0; i < 2; i += 1) connections.push(connectRedis(redisUrl(mode)));
  });

  afterAll(async () => {
    await deletePrefix(prefix, mode);
    for (const redis of connections) redis.disconnect();
  });

  describe('shared', () => {
    it('two daemons sharing a key stay within the rate over ~2 s', async () => {
      const [a, b] = connections as [RedisClient, RedisClient];
      const key = `${prefix}:api-rate`;
      const limit = { max: 10, perMs: 200 }; // 50/s, 20 ms apart
      const limiterA = new RedisRateLimiter(a, key, limit);
      const limiterB = new RedisRateLimiter(b, key, limit);
      const scriptCalls = vi.spyOn(a, 'evalsha');

      const windowMs = 2000;
      const start = performance.now();
      const [timesA, timesB] = await Promise.all([
        drive(limiterA, 4, start + windowMs),
        drive(limiterB, 4, start + windowMs),
      ]);
      const total = timesA.length + timesB.length;
      const ceiling = (windowMs / limit.perMs) * limit.max; // rate × window
      console.info(
        `shared limiter: ${timesA.length} + ${timesB.length} = ${total} (ceiling ${ceiling})`,
      );

      expect(total).toBeLessThanOrEqual(ceiling + 1);
      // And it is a limit, not a stall: close to the ceiling, with both sharers served.
      expect(total).toBeGreaterThanOrEqual(ceiling * 0.85);
      expect(timesA.length).toBeGreaterThan(total * 0.3);
      expect(timesB.length).toBeGreaterThan(total * 0.3);
      // No spinning: one script step per acquisition (the ones past the window included).
      expect(scriptCalls.mock.calls.length).toBeLessThanOrEqual(timesA.length + 4);

      // Any one-second window holds at most one second's rate. The times are taken where
      // `acquire` resolves, in this one event loop that both sharers (two processes in
      // production) share: a timer fired late by a stall moves a call across a window's edge, so
      // two slots of such jitter are allowed (a CI run measured 52). A burst of the limit's `max`
      // on top (the bug this guards) would put 60 in a window.
      const all = [...timesA, ...timesB].sort((x, y) => x - y);
      let worst = 0;
      for (let i = 0, j = 0; i < all.length; i += 1) {
        while ((all[i] as number) - (all[j] as number) >= 1000) j += 1;
        worst = Math.max(worst, i - j + 1);
      }
      expect(worst).toBeLessThanOrEqual(50 + 2);
    });

    it('the key lives under the given prefix and expires when idle', async () => {
      const [a] = connections as [RedisClient];
      const key = `${prefix}:idle`;
      await new RedisRateLimiter(a, key, { max: 5, perMs: 1000 }).acquire();
      const ttl = await a.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2000);
    });

    it('an abort stops the wait with a RetryableError', async () => {
      const [a] = connections as [RedisClient];
      const limiter = new RedisRateLimiter(a, `${prefix}:abort`, { max: 1, perMs: 60_000 });
      await limiter.acquire();
      const controller = new AbortController();
      const waiting = limiter.acquire(controller.signal);
      setImmediate(() => controller.abort());
      await expect(waiting).rejects.toBeInstanceOf(RetryableError);
    });
  });

  describe('at high rates', () => {
    it('reserves a few milliseconds of slots per round trip and still holds the shared rate', async () => {
      const key = `${prefix}:high`;
      const calls = [0, 0];
      // Real Redis underneath; the wrapper only counts the script calls each limiter makes.
      const counted = (redis: RedisClient, i: number) =>
        new Proxy(redis, {
          get(target, prop, receiver) {
            if (prop === 'evalsha' || prop === 'eval') calls[i] = (calls[i] ?? 0) + 1;
            const value: unknown = Reflect.get(target, prop, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      const limit = { max: 2_000, perMs: 1_000 }; // 500 µs apart: 10 slots per 5 ms
      const a = new RedisRateLimiter(counted(connections[0]!, 0), key, limit);
      const b = new RedisRateLimiter(counted(connections[1]!, 1), key, limit);
      const start = performance.now();
      const endAt = start + 1_000;
      const [ta, tb] = await Promise.all([drive(a, 4, endAt), drive(b, 4, endAt)]);
      const total = ta.length + tb.length;
      // 2,000/s for a second, no burst; each limiter may hold one unused batch.
      expect(total).toBeLessThanOrEqual(2_000 + 2 * 10 + 1);
      // A limit, not a stall (loose: two limiters and Redis share two busy cores here).
      expect(total).toBeGreaterThan(2_000 * 0.5);
      expect(calls[0]! + calls[1]!).toBeLessThan(total / 5);
    });
  });
});
