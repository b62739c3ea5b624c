/**
 * A sweep that runs while the previous sweep's syncs are still at work: a customer linked by a
 * sync after this sweep's listing began is newer than the listing, so the sweep plans nothing
 * for it (it would otherwise see a link whose workspace the listing missed and queue a sync that
 * costs calls again).
 */
import { afterEach, describe, expect, it } from 'vitest';

import type { AgentEngine } from '../../src/agent-engine/types.js';
import { storeLink } from '../../src/sql/links.js';
import { claimSubject } from '../../src/sql/syncClaims.js';
import { runSweep } from '../../src/sync/sweep.js';
import { type Harness, startHarness } from '../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a sweep overlapping the syncs of the one before', () => {
  it('leaves out customers linked after its listing began', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'c_early', name: 'Linked Before' },
      { id: 'c_late', name: 'Linked During' },
    ]);
    const app = h.app();
    // c_early: linked before the sweep, its workspace gone behind our back: the sweep must act.
    const gone = h.sim.store.create('Linked Before');
    await storeLink(
      app.pool,
      await claimSubject(app.pool, 'c_early'),
      'c_early',
      gone.id,
      'Linked Before',
      'active',
    );
    h.sim.store.delete(gone.id);
    const engine = app.engine();
    const harness = h;
    // The exact moment: once the listing has passed every page, a sync (of an earlier sweep)
    // creates c_late's workspace and links it. The listing cannot contain it.
    const overlapping: AgentEngine = {
      ...engine,
      listWorkspaces: async function* (options) {
        yield* engine.listWorkspaces(options);
        const made = harness.sim.store.create('Linked During');
        const claim = await claimSubject(app.pool, 'c_late');
        await storeLink(app.pool, claim, 'c_late', made.id, 'Linked During', 'active');
      },
    };
    const report = await runSweep(
      { ...app.sweepDeps(), engine: overlapping },
      { trigger: 'manual' },
    );
    expect(report.listingComplete).toBe(true);
    const queued = await app.queues.sync.getJobs(['waiting', 'prioritized']);
    expect(queued.map((j) => j.data.subject)).toEqual(['c_early']);
  });
});
