/**
 * Several daemons on one Redis: they share the work, survive a SIGKILL and a Redis that lost its
 * data, and never send two mutating calls for one workspace at the same time. Faults too.
 */
import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import type { App } from '../../src/app.js';
import { sweepProgress } from '../../src/sql/sweepProgress.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { deletePrefix, REDIS_MODES } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function queueSweep(app: App): Promise<string> {
  const sweepId = randomUUID();
  await app.queues.sweep.add('sweep', { trigger: 'manual', sweepId }, { jobId: sweepId });
  return sweepId;
}

async function linkCount(harness: Harness): Promise<number> {
  const { rows } = await harness.database.pool.query(
    'select count(*)::int as n from customer_links',
  );
  return rows[0].n as number;
}

/** Every customer has exactly one workspace of its name, and no name appears twice. */
function expectConverged(harness: Harness, names: string[]) {
  const live = harness.sim.store.list();
  const counts = new Map<string, number>();
  for (const w of live) counts.set(w.name, (counts.get(w.name) ?? 0) + 1);
  expect([...counts.values()].every((n) => n === 1)).toBe(true);
  for (const name of names) expect(counts.get(name), name).toBe(1);
  expect(live).toHaveLength(names.length + 1);
}

describe('several daemons', () => {
  it.each(REDIS_MODES)(
    'two daemons run one sync per customer and keep one waiting, however many triggers arrive (%s Redis)',
    async (redis) => {
      h = await startHarness({ redis, env: { WORKER_CONCURRENCY: '4' } });
      const ids = ['c1', 'c2', 'c3'];
      await h.customers(ids.map((id) => ({ id, name: `Co ${id}` })));
      // Slow calls: the first runs are still going when the other triggers arrive.
      h.sim.faults.set({ latencyMs: 300 });
      const [a, b] = [await h.startDaemon(), await h.startDaemon()];
      await a.app.syncQueue.enqueue(ids, 'enqueue');
      await waitFor(async () => (await a.app.queues.sync.getJobCounts('active')).active === 3, {
        what: 'three syncs running',
      });
      // While they run, both daemons trigger every customer again and again; the last word is B's.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).app.syncQueue.enqueue(ids, 'notify')),
      );
      await b.app.syncQueue.enqueue(ids, 'webhook');
      // Three running, and the next one of each held aside until its run ends.
      const counts = await a.app.queues.sync.getJobCounts('active', 'waiting', 'delayed');
      expect(counts).toEqual({ active: 3, waiting: 0, delayed: 0 });

      await waitForIdle(a.app);
      const done = await a.app.queues.sync.getJobs(['completed']);
      for (const id of ids) {
        const runs = done
          .filter((job) => job.data.subject === id)
          .sort((x, y) => x.timestamp - y.timestamp);
        // One for the first trigger, one for the twenty-one that came while it ran (the latest kept).
        expect(
          runs.map((job) => job.data.trigger),
          id,
        ).toEqual(['enqueue', 'webhook']);
      }
      expect(h.sim.store.count()).toBe(4); // three workspaces and `default`
      expect(h.sim.stats.snapshot().mutatingOverlaps).toBe(0);
    },
  );

  it('three daemons, one killed mid-sweep: convergence, no duplicate, no overlapping mutations', async () => {
    h = await startHarness({ env: { WORKER_CONCURRENCY: '4' } });
    const names = Array.from({ length: 1000 }, (_, i) => `Tenant ${i}`);
    await h.customers(names.map((name, i) => ({ id: `t${String(i).padStart(4, '0')}`, name })));
    h.sim.faults.set({ latencyMs: 25 });
    const daemons = [await h.spawnDaemon(), await h.spawnDaemon(), await h.spawnDaemon()];
    const app = h.app();
    await waitFor(async () => (await app.queues.sync.getWorkers()).length >= 3, {
      timeoutMs: 30_000,
      what: '3 workers',
    });
    await queueSweep(app);
    await waitFor(async () => (await linkCount(h!)) >= 250, {
      timeoutMs: 60_000,
      what: '250 links',
    });
    const victim = daemons[0]!;
    const exited = new Promise((r) => victim.once('exit', r));
    victim.kill('SIGKILL');
    await exited;
    await waitFor(async () => (await linkCount(h!)) === 1000, {
      timeoutMs: 90_000,
      what: 'all 1000 links',
    });
    expectConverged(h, names);
    expect(h.sim.stats.snapshot().mutatingOverlaps).toBe(0);
  });

  it('heals by itself after Redis loses its data: the schedule comes back and sweeps converge', async () => {
    h = await startHarness({ env: { SWEEP_EVERY: '2s' } });
    await h.customers([{ id: 'c1', name: 'Kept' }]);
    const one = await h.startDaemon();
    await h.startDaemon();
    await waitFor(() => h!.sim.store.findByName('Kept'), {
      timeoutMs: 20_000,
      what: 'first scheduled sweep',
    });
    // The same as FLUSHALL for this deployment, without touching other tests' keys.
    await deletePrefix(h.prefix);
    const id = h.sim.store.findByName('Kept')!.id;
    h.sim.store.rename(id, 'Drifted');
    const started = Date.now();
    await waitFor(() => h!.sim.store.get(id)?.name === 'Kept', {
      timeoutMs: 20_000,
      what: 'the rename to be undone',
    });
    // Two sweep intervals, plus the time to notice the lost schedule (at most one interval).
    expect(Date.now() - started).toBeLessThan(3 * 2_000 + 2_000);
    expect(await one.app.queues.sweep.getJobSchedulers()).toHaveLength(1);
  });
});

describe('faults', () => {
  // A 429 pauses every call for its Retry-After (1 s here): 1% of ~3,000 calls is ~30 pauses.
  it('converges 1,000 customers through 15% 503s, 1% 429s and a 2 s token, with no duplicate', async () => {
    h = await startHarness({
      sim: { appTokenTtlMs: 2_000 },
      env: { TOKEN_REFRESH_SKEW: '500ms', SYNC_ATTEMPTS: '20' },
    });
    const names = Array.from({ length: 1000 }, (_, i) => `Shop ${i}`);
    await h.customers(names.map((name, i) => ({ id: `s${String(i).padStart(4, '0')}`, name })));
    h.sim.faults.set({ p5xx: 0.15, statuses5xx: [503], p429: 0.01, retryAfterSeconds: 1 });
    const daemon = await h.startDaemon();
    const sweepId = await queueSweep(daemon.app);
    await waitFor(
      async () => {
        const p = await sweepProgress(daemon.app.pool, sweepId);
        return p.sweep?.finishedAt && p.ended >= p.queued;
      },
      { timeoutMs: 150_000, what: 'the sweep under faults', intervalMs: 250 },
    );
    h.sim.faults.reset();
    // Anything that ran out of attempts is retried by the next sweep; the fleet must converge.
    if ((await linkCount(h)) < 1000) {
      const again = await queueSweep(daemon.app);
      await waitFor(async () => (await sweepProgress(daemon.app.pool, again)).sweep?.finishedAt, {
        timeoutMs: 60_000,
      });
      await waitFor(async () => (await linkCount(h!)) === 1000, { timeoutMs: 60_000 });
    }
    expectConverged(h, names);
    expect(h.sim.stats.snapshot().tokenMints).toBeGreaterThan(1);
  });
});
