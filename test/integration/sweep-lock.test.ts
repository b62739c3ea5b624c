/**
 * The sweep lock cannot outlive its daemon: a daemon (a child process) is SIGSTOPped in the middle
 * of a sweep, holding the lock and every connection open, and another daemon still sweeps within
 * LOCK_DURATION plus a margin, marking the stopped one's sweep failed. A holder that comes back
 * finds its lease gone at its next renewal and stops.
 */
import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { SWEEP_LEASE, takeLease } from '../../src/sql/leases.js';
import { runSweep } from '../../src/sync/sweep.js';
import { takeSweepLease } from '../../src/sync/sweepLease.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const LIST = 'GET /api/v1/workspaces';
const LOCK_MS = 3000;

async function sweepRow(harness: Harness, id: string) {
  const { rows } = await harness.database.pool.query<{ outcome: string; error: string | null }>(
    'select outcome, error from sweeps where id = $1',
    [id],
  );
  return rows[0];
}

describe('the sweep lock', () => {
  it('a SIGSTOPped daemon holding it blocks sweeps for LOCK_DURATION at most', async () => {
    h = await startHarness({ env: { LOCK_DURATION: `${LOCK_MS}ms` } });
    await h.customers([{ id: 'c1', name: 'Kept' }]);
    // The child's sweep hangs in its listing, long enough to be caught holding the lock.
    h.sim.faults.set({ latencyMs: 60_000, onlyRoutes: [LIST] });
    const child = await h.spawnDaemon({ REQUEST_TIMEOUT: '120s' });
    const app = h.app();
    await waitFor(async () => (await app.queues.sweep.getWorkers()).length >= 1, {
      what: 'the child daemon',
    });
    const stuck = randomUUID();
    await app.queues.sweep.add('sweep', { trigger: 'manual', sweepId: stuck }, { jobId: stuck });
    await waitFor(async () => (await sweepRow(h!, stuck))?.outcome === 'running', {
      what: "the child's sweep running",
    });
    child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    h.sim.faults.reset();

    // Another daemon's sweep: at once it would be skipped, the stopped one's lock being in force;
    // waiting (by default up to one LOCK_DURATION) it runs as soon as that lock lapses.
    const deps = app.sweepDeps();
    expect((await runSweep(deps, { trigger: 'manual', lockWaitMs: 0 })).skipped).toBe(true);
    const report = await runSweep(deps, { trigger: 'manual' });
    expect(report.skipped).toBe(false);
    const tookMs = Date.now() - stoppedAt;
    expect(tookMs).toBeLessThan(LOCK_MS + 5000);
    expect(report.listingComplete).toBe(true);
    expect((await sweepRow(h, report.id))?.outcome).toBe('ok');
    // The sweep the stopped daemon left running is closed, with the reason.
    const left = await sweepRow(h, stuck);
    expect(left?.outcome).toBe('failed');
    expect(left?.error).toMatch(/abandoned/);
  });

  it('a sweep that lost its lease writes nothing over the run that took its place under the same id', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Fenced' }]);
    const app = h.app();
    const deps = app.sweepDeps();
    // The stopped run: its listing waits (its daemon is stopped) and, resumed, fails.
    let resume!: () => void;
    const stopped = new Promise<void>((resolve) => (resume = resolve));
    const engine = {
      ...deps.engine,
      // eslint-disable-next-line require-yield
      async *listWorkspaces(): AsyncGenerator<never> {
        await stopped;
        throw new Error('the connection was lost while the daemon was stopped');
      },
    };
    const id = randomUUID();
    const stale = runSweep({ ...deps, engine }, { trigger: 'manual', id }).catch(
      (error: unknown) => error,
    );
    await waitFor(async () => (await sweepRow(h!, id))?.outcome === 'running', {
      what: 'the first run',
    });
    // Its lease lapses and another daemon's takes it; the sweep job, retaken, runs again under
    // the same id and finishes.
    await app.pool.query(
      `update leases set holder = 'another daemon', expires_at = now() - interval '1 second'`,
    );
    const retaken = await runSweep(deps, { trigger: 'manual', id, lockWaitMs: 0 });
    expect(retaken.skipped).toBe(false);
    expect(await sweepRow(h, id)).toEqual({ outcome: 'ok', error: null });
    // The stopped run resumes and fails: the row keeps what the run that holds the lease wrote.
    resume();
    await stale;
    expect(await sweepRow(h, id)).toEqual({ outcome: 'ok', error: null });
  });

  it('a holder whose lease was taken while it was away is told at its next renewal', async () => {
    h = await startHarness();
    const app = h.app();
    const lease = await takeSweepLease(app.pool, 'first', 600, app.logger);
    expect(lease).toBeDefined();
    expect(await takeSweepLease(app.pool, 'second', 600, app.logger)).toBeUndefined();
    // As if the holder had been stopped past its expiry: the lease lapses and another takes it.
    await app.pool.query(`update leases set expires_at = now() - interval '1 second'`);
    expect(await takeLease(app.pool, SWEEP_LEASE, 'other-holder', 60_000)).toBe(true);
    await waitFor(() => lease?.signal.aborted, { timeoutMs: 2000, what: 'the lease lost' });
    expect(String(lease?.signal.reason)).toMatch(/another daemon took it/);
    await lease?.release();
    // Releasing a lost lease leaves the new holder's alone.
    const { rows } = await app.pool.query<{ holder: string }>('select holder from leases');
    expect(rows.map((r) => r.holder)).toEqual(['other-holder']);
  });
});
