/**
 * What only a Redis Cluster asks of customer-sync (the shared tests run on one as well: sweep,
 * dedup across daemons, rate limiter, breaker, webhooks): every key in the prefix's one slot,
 * readiness, the eviction check on each master, and a clear line when the cluster is not there.
 */
import { setTimeout as delay } from 'node:timers/promises';

import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { connectRedis, mastersOf } from '../../src/lib/redisClient.js';
import { UnreachableError } from '../../src/ops/errors.js';
import { checkRedis } from '../../src/ops/preflight.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { redisUrl } from '../support/redis.js';
import { startRedisCluster } from '../support/redisCluster.js';
import { waitFor } from '../support/wait.js';

async function ready(url: string): Promise<number> {
  const answer = await request(`${url}/readyz`);
  await answer.body.dump();
  return answer.statusCode;
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('on a Redis Cluster', () => {
  it('keeps every key in the prefix’s slot, is ready, and warns about each evicting master', async () => {
    h = await startHarness({ redis: 'cluster' });
    const admin = connectRedis(redisUrl('cluster'));
    const masters = await mastersOf(admin);
    expect(masters).toHaveLength(3);
    const evicting = masters[1]!;
    await evicting.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await h.customers(Array.from({ length: 20 }, (_, i) => ({ id: `c${i}`, name: `Co ${i}` })));
      const daemon = await h.startDaemon();
      const warned = h.logs.filter((l) => l.includes('maxmemory-policy is allkeys-lru'));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain(`127.0.0.1:${evicting.options.port}`);

      // Ready once its workers' cluster connection is up (polled: not a fixed instant after start).
      const report = await waitFor(
        async () => {
          const ready = await request(`${daemon.url}/readyz`);
          const body = (await ready.body.json()) as Record<string, boolean>;
          return ready.statusCode === 200 ? body : undefined;
        },
        { what: 'ready on the cluster' },
      );
      expect(report).toEqual({ postgres: true, redis: true, workers: true });

      await daemon.app.syncQueue.enqueue(
        Array.from({ length: 20 }, (_, i) => `c${i}`),
        'enqueue',
      );
      await waitFor(() => h!.sim.store.count() === 21, { what: 'twenty workspaces' });
      await waitForIdle(daemon.app);

      // Where the keys are: all under the prefix, in its hash tag's one slot, on one master.
      const slot = await admin.cluster('KEYSLOT', h.prefix);
      const holders: { port: number | undefined; keys: string[] }[] = [];
      for (const node of masters) {
        const keys = await node.keys(`${h.prefix}:*`);
        if (keys.length > 0) holders.push({ port: node.options.port, keys });
      }
      expect(holders).toHaveLength(1);
      const keys = holders[0]!.keys;
      expect(keys.length).toBeGreaterThan(5);
      const slots = await Promise.all(keys.map((key) => admin.cluster('KEYSLOT', key)));
      expect(new Set(slots)).toEqual(new Set([slot]));
    } finally {
      await evicting.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });

  it('fails fast while the whole cluster is down, and is ready and syncing again without a restart', async () => {
    const own = await startRedisCluster();
    let down = false;
    try {
      h = await startHarness({ redis: 'cluster', env: { REDIS_URL: own.url } });
      await h.customers([
        { id: 'c1', name: 'During' },
        { id: 'c2', name: 'After' },
      ]);
      const daemon = await h.startDaemon();
      await waitFor(async () => (await ready(daemon.url)) === 200, { what: 'ready' });

      await own.down();
      down = true;
      await waitFor(async () => (await ready(daemon.url)) === 503, { what: 'not ready' });
      // A webhook's enqueue gives up at once (the webhook answers; the sweep finds the change),
      // where ioredis's Cluster alone would hold it until the cluster came back.
      const outcome = await Promise.race([
        daemon.app.syncQueue.enqueue(['c1'], 'enqueue').then(
          () => 'queued',
          (error: Error) => error.message,
        ),
        delay(5_000, 'still waiting'),
      ]);
      expect(outcome).toBe('Redis Cluster unreachable; reconnecting');

      await own.up();
      down = false;
      await waitFor(async () => (await ready(daemon.url)) === 200, {
        timeoutMs: 30_000,
        what: 'ready again',
      });
      await daemon.app.syncQueue.enqueue(['c2'], 'enqueue');
      await waitFor(() => h!.sim.store.findByName('After'), { what: 'the sync after' });
    } finally {
      // Back up before closing the daemon, or a failure here would leave its close waiting.
      if (down) await own.up();
      await h?.close();
      h = undefined;
      await own.stop();
    }
  });

  it('the commands’ preflight reaches a cluster, or says in one line, without its password, why not', async () => {
    await expect(checkRedis(redisUrl('cluster'))).resolves.toBeUndefined();
    const url = 'redis+cluster://app:hunter2@127.0.0.1:1,127.0.0.1:2';
    const check = checkRedis(url);
    await expect(check).rejects.toBeInstanceOf(UnreachableError);
    await expect(check).rejects.toThrow(
      /^cannot reach Redis at redis\+cluster:\/\/app:\*\*\*@127\.0\.0\.1:1,127\.0\.0\.1:2 \(.+\)/,
    );
    await expect(check).rejects.not.toThrow('hunter2');
  });
});
