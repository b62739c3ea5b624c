/**
 * Issue 11 §1: a change costs its mutating call and nothing else. The calls are counted at the
 * simulator, so a sync that spends a GET it does not need fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Calls by route since the last reset, the list and token routes apart. */
function calls(harness: Harness) {
  const { byRoute } = harness.sim.stats.snapshot() as {
    byRoute: Record<string, Record<string, number>>;
  };
  const count = (route: string) => Object.values(byRoute[route] ?? {}).reduce((a, b) => a + b, 0);
  return {
    get: count('GET /api/v1/workspaces/{id}'),
    put: count('PUT /api/v1/workspaces/{id}'),
    del: count('DELETE /api/v1/workspaces/{id}'),
    mint: count('POST /api/v1/account/applications/scoped-token'),
    info: count('GET /api/v1/account/applications/scoped-token/info'),
  };
}

describe('one call per change', () => {
  it('a drifted sweep spends one PUT per change and no GET', async () => {
    h = await startHarness();
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: `c${i}`, name: `Budget ${i}` }));
    await h.customers(rows);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    // Drift behind our back: 5 renamed, 5 deactivated.
    for (let i = 0; i < 10; i++) {
      const ws = h.sim.store.findByName(`Budget ${i}`)!;
      if (i < 5) h.sim.store.rename(ws.id, `Drifted ${i}`);
      else h.sim.store.setStatus(ws.id, 'inactive');
    }
    h.sim.stats.reset();
    await sweepAndWait(daemon.app);
    expect(calls(h)).toEqual({ get: 0, put: 10, del: 0, mint: 0, info: 0 });
    for (const r of rows) {
      expect(h.sim.store.findByName(r.name)?.status, r.id).toBe('active');
    }
  });

  it('a sync of a customer in step with its link makes no call; a change from the table one PUT', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Quiet' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    h.sim.stats.reset();
    await daemon.app.syncQueue.enqueue(['c1'], 'enqueue');
    await waitForIdle(daemon.app);
    expect(calls(h)).toEqual({ get: 0, put: 0, del: 0, mint: 0, info: 0 });
    await h.database.pool.query(`update customers set name = 'Louder' where id = 'c1'`);
    await waitFor(() => h!.sim.store.findByName('Louder'), { what: 'the rename' });
    await waitForIdle(daemon.app);
    expect(calls(h)).toEqual({ get: 0, put: 1, del: 0, mint: 0, info: 0 });
  });

  it('a first sweep creates each workspace with mint + info, and adopts with a PUT only when its status differs', async () => {
    h = await startHarness();
    const existing = Array.from({ length: 10 }, (_, i) =>
      h!.sim.store.create(`Had ${i}`, i < 3 ? 'inactive' : 'active'),
    );
    await h.customers([
      ...Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, name: `New ${i}` })),
      ...existing.map((w, i) => ({ id: `a${i}`, name: w.name })),
    ]);
    const daemon = await h.startDaemon();
    h.sim.stats.reset();
    await sweepAndWait(daemon.app);
    expect(calls(h)).toEqual({ get: 0, put: 3, del: 0, mint: 30, info: 30 });
    for (const w of existing) expect(h.sim.store.get(w.id)?.status).toBe('active');
  });

  it('a workspace that a PUT finds gone is re-created once the listing-free GET confirms it', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Vanishing' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const first = h.sim.store.findByName('Vanishing')!.id;
    h.sim.store.delete(first);
    await h.database.pool.query(`update customers set status = 'inactive' where id = 'c1'`);
    const now = await waitFor(() => h!.sim.store.findByName('Vanishing'), {
      what: 'a new workspace',
    });
    await waitFor(() => h!.sim.store.get(now.id)?.status === 'inactive', { what: 'inactive' });
    expect(now.id).not.toBe(first);
  });
});
