/**
 * The sweep holds its advisory lock on a connection that sits idle while the sweep lists and
 * plans. When Postgres ends that connection (a restart, a failover, an administrator), the daemon
 * must log it and carry on, not die of an unhandled 'error' event (found by `npm run chaos`: the
 * daemon running the sweep exited at the Postgres restart and sweeps stopped for a minute).
 */
import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { sweepProgress } from '../../src/sql/sweepProgress.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

/** The sweep lock's key (src/sync/sweep.ts); advisory locks show it as objid. */
const SWEEP_LOCK = 0x73_77_65_65;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('sweep lock connection', () => {
  it('a daemon survives Postgres ending the connection that holds the sweep lock', async () => {
    h = await startHarness();
    await h.customers(
      Array.from({ length: 2000 }, (_, i) => ({
        id: `k${String(i).padStart(4, '0')}`,
        name: `Kept ${i}`,
      })),
    );
    // Slow pages: the sweep holds its lock long enough to lose the connection mid-listing.
    h.sim.faults.set({ latencyMs: 30, onlyRoutes: ['/api/v1/workspaces'] });
    const child = await h.spawnDaemon();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const app = h.app();
    await waitFor(async () => (await app.queues.sweep.getWorkers()).length > 0, {
      timeoutMs: 30_000,
      what: 'the daemon to take sweeps',
    });
    const sweepId = randomUUID();
    await app.queues.sweep.add('sweep', { trigger: 'manual', sweepId }, { jobId: sweepId });
    const terminated = await waitFor(
      async () => {
        const { rows } = await h!.database.pool.query(
          `select pg_terminate_backend(pid) as done from pg_locks
            where locktype = 'advisory' and objid = $1 and granted`,
          [SWEEP_LOCK],
        );
        return rows.length > 0 && rows.every((r) => r.done === true);
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'the sweep to hold its lock' },
    );
    expect(terminated).toBe(true);
    h.sim.faults.reset();
    // The next sweep runs to its end on the same process.
    const next = randomUUID();
    await app.queues.sweep.add('sweep', { trigger: 'manual', sweepId: next }, { jobId: next });
    const outcome = await Promise.race([
      exited.then((code) => `the daemon exited (code ${code})`),
      waitFor(async () => (await sweepProgress(app.pool, next)).sweep?.finishedAt, {
        timeoutMs: 60_000,
        what: 'the next sweep',
      }).then(() => 'swept'),
    ]);
    expect(outcome).toBe('swept');
    expect(child.exitCode).toBeNull();
  });
});
