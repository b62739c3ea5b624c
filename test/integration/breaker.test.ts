/**
 * Refused credentials open the breaker: no more calls hammer the API, one error says why, and the
 * daemon resumes by itself when calls succeed again. And a stopping daemon finishes its jobs.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { type Harness, startHarness } from '../support/harness.js';
import { REDIS_MODES } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('the breaker', () => {
  it.each(REDIS_MODES)(
    'opens on refused credentials, says why once, probes slowly, and closes by itself (%s Redis)',
    async (redis) => {
      h = await startHarness({ redis });
      await h.customers(Array.from({ length: 8 }, (_, i) => ({ id: `c${i}`, name: `Co ${i}` })));
      // Every call, the token endpoint's too, answers 401: revoked credentials.
      h.sim.faults.set({ p5xx: 1, statuses5xx: [401], faultTokenEndpoint: true });
      // One job at a time: a job admitted before the breaker opened may still make its own
      // token calls afterwards (a CI run saw four of them 159 ms after opening); with one worker
      // slot the job that opens the breaker is the only one in flight, so every later call is a
      // probe.
      const daemon = await h.startDaemon(
        { breaker: { threshold: 3, probeEveryMs: 400 } },
        { WORKER_CONCURRENCY: '1' },
      );
      await daemon.app.syncQueue.enqueue(
        Array.from({ length: 8 }, (_, i) => `c${i}`),
        'enqueue',
      );
      const opened = await waitFor(
        async () => {
          const state = await daemon.app.breaker.state();
          return state.state === 'open' ? state : undefined;
        },
        { timeoutMs: 20_000, what: 'the breaker to open' },
      );
      // While open, one probe per interval reaches the API: four more token calls (two probes of
      // a refresh and its retry) take at least one probe interval, where unchecked retries would
      // take milliseconds.
      const tokenCalls = () => h!.sim.stats.count('POST /api/v1/account/applications/token');
      // Timed from the breaker's own opening, not from when this poll saw it (a loaded CI run
      // saw it 181 ms late and measured 219 ms).
      const openedAt = opened.openedAt ?? Date.now();
      const atOpen = tokenCalls();
      await waitFor(() => tokenCalls() >= atOpen + 4 || undefined, {
        timeoutMs: 10_000,
        what: 'probes',
      });
      expect(Date.now() - openedAt).toBeGreaterThanOrEqual(400);
      expect(h.logs.filter((l) => l.includes('breaker open'))).toHaveLength(1);
      expect(h.sim.store.count()).toBe(1); // only `default`: nothing was changed

      h.sim.faults.reset();
      await waitFor(() => h!.sim.store.count() === 9 || undefined, {
        timeoutMs: 30_000,
        what: 'the syncs to resume',
      });
      expect((await daemon.app.breaker.state()).state).toBe('closed');
      expect(h.logs.some((l) => l.includes('breaker closed'))).toBe(true);
    },
  );
});

describe('shutdown', () => {
  it('SIGTERM finishes in-flight jobs and exits 0', async () => {
    h = await startHarness({ env: { WORKER_CONCURRENCY: '4' } });
    await h.customers(Array.from({ length: 40 }, (_, i) => ({ id: `c${i}`, name: `Co ${i}` })));
    h.sim.faults.set({ latencyMs: 150 });
    const child = await h.spawnDaemon();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const app = h.app();
    await waitFor(async () => (await app.queues.sync.getWorkers()).length > 0, {
      timeoutMs: 30_000,
      what: 'the daemon to consume',
    });
    await app.syncQueue.enqueue(
      Array.from({ length: 40 }, (_, i) => `c${i}`),
      'enqueue',
    );
    await waitFor(async () => ((await app.queues.sync.getJobCounts('active')).active ?? 0) > 0, {
      timeoutMs: 30_000,
      what: 'jobs in flight',
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Nothing was abandoned mid-flight: no job is left active for another daemon to recover.
    expect((await app.queues.sync.getJobCounts('active')).active).toBe(0);
    const { rows } = await h.database.pool.query(
      `select count(*)::int as n from audit where outcome = 'started'`,
    );
    expect(rows[0].n).toBe(0);
  });
});

describe('rate limited by the Agent Engine', () => {
  it('a long Retry-After pauses the whole queue and spends no attempt', async () => {
    h = await startHarness({ env: { SYNC_ATTEMPTS: '1' } });
    await h.customers(Array.from({ length: 3 }, (_, i) => ({ id: `c${i}`, name: `Co ${i}` })));
    const mint = 'POST /api/v1/account/applications/scoped-token';
    h.sim.faults.set({ p429: 1, retryAfterSeconds: 1, onlyRoutes: [mint] });
    // A sync's calls never wait out a Retry-After themselves: the job layer must pause the queue.
    const daemon = await h.startDaemon();
    await daemon.app.syncQueue.enqueue(['c0', 'c1', 'c2'], 'enqueue');
    await waitFor(() => h!.sim.stats.count(mint, 429) >= 1 || undefined, { timeoutMs: 10_000 });
    const first = Date.now();
    await waitFor(() => h!.sim.stats.count(mint, 429) >= 7 || undefined, { timeoutMs: 10_000 });
    // The three jobs meet a refusal together; seven refusals took two pauses of a second at
    // least: nobody retried sooner.
    expect(Date.now() - first).toBeGreaterThanOrEqual(1_900);
    h.sim.faults.reset();
    await waitFor(() => h!.sim.store.count() === 4 || undefined, {
      timeoutMs: 15_000,
      what: 'all three',
    });
    const { rows } = await h.database.pool.query(
      `select count(*)::int as n from sync_state where outcome = 'failed'`,
    );
    expect(rows[0].n).toBe(0);
  });
});
