/**
 * Issue 11 §1: a change costs its mutating call and nothing else. The calls are counted at the
 * simulator, so a sync that spends a GET it does not need fails here. Issue 12 §4: a failing call
 * is retried at one level only (the budget in src/agent-engine/retry.ts).
 */
import { Agent } from 'undici';
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

describe('one retry budget', () => {
  const PUT = 'PUT /api/v1/workspaces/{id}';
  const LIST = 'GET /api/v1/workspaces';

  /** Loopback HTTP that adds `Retry-After: 1` to every 503 (the simulator's 503s carry none). */
  const retryAfterOn503 = () =>
    new Agent().compose(
      (dispatch) => (opts, handler) =>
        dispatch(opts, {
          onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
          onResponseStart: (controller, status, headers, message) =>
            handler.onResponseStart?.(
              controller,
              status,
              status === 503 ? { ...headers, 'retry-after': '1' } : headers,
              message,
            ),
          onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
          onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
          onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
        }),
    );

  it.each([
    ['503', false],
    ['503 with Retry-After: 1', true],
  ])(
    'a PUT that answers %s every time is sent once per job attempt: SYNC_ATTEMPTS in all',
    async (_what, withRetryAfter) => {
      h = await startHarness({ env: { SYNC_ATTEMPTS: '3' } });
      const dispatcher = withRetryAfter ? retryAfterOn503() : undefined;
      try {
        await h.customers([{ id: 'c1', name: 'Flaky' }]);
        const daemon = await h.startDaemon(dispatcher ? { dispatcher } : {});
        await sweepAndWait(daemon.app);
        h.sim.faults.set({ p5xx: 1, statuses5xx: [503], onlyRoutes: [PUT] });
        h.sim.stats.reset();
        await h.database.pool.query(`update customers set name = 'Still Flaky' where id = 'c1'`);
        const failed = await waitFor(
          async () => {
            const { rows } = await h!.database.pool.query<{ outcome: string; attempts: number }>(
              `select outcome, attempts from sync_state where subject = 'c1'`,
            );
            return rows[0]?.outcome === 'failed' ? rows[0] : undefined;
          },
          { what: 'the sync to run out of attempts' },
        );
        await waitForIdle(daemon.app);
        expect(failed.attempts).toBe(3);
        // Not 3 × the client's own attempts: the job layer alone retries a sync's calls; and a
        // 503's Retry-After spends attempts (only a 429 pauses the queue without spending one).
        expect(h.sim.stats.count(PUT, 503)).toBe(3);
        expect(calls(h)).toEqual({ get: 0, put: 3, del: 0, mint: 0, info: 0 });
      } finally {
        await h.close();
        h = undefined;
        await dispatcher?.close();
      }
    },
  );

  it('a listing page that fails twice, then answers, completes the sweep in one job attempt', async () => {
    h = await startHarness();
    for (let i = 0; i < 150; i++) h.sim.store.create(`listed ${i}`);
    await h.customers([{ id: 'c1', name: 'listed 0' }]);
    h.sim.faults.set({ failPageAtOffsets: [100] });
    // The second page (the only one with a cursor) fails until its third request leaves.
    let secondPage = 0;
    const sim = h.sim;
    const dispatcher = new Agent().compose((dispatch) => (opts, handler) => {
      if (String(opts.path).includes('cursor=') && ++secondPage === 3) sim.faults.reset();
      return dispatch(opts, handler);
    });
    try {
      const daemon = await h.startDaemon({ dispatcher });
      const { sweepId } = await sweepAndWait(daemon.app);
      expect(h.sim.stats.count(LIST, 500)).toBe(2);
      expect(h.sim.stats.count(LIST)).toBe(4);
      // The sweep's row is finished just before its job returns: wait for the job's own end.
      const job = await waitFor(
        async () => {
          const j = await daemon.app.queues.sweep.getJob(sweepId);
          return j?.finishedOn ? j : undefined;
        },
        { what: `sweep job ${sweepId} finished` },
      );
      // Started once, completed: the job layer did not retry the sweep.
      expect(job?.attemptsStarted).toBe(1);
      expect(job?.failedReason).toBeUndefined();
      expect(job?.returnvalue).toMatchObject({ listingComplete: true });
      const { rows } = await h.database.pool.query(`select outcome from sweeps where id = $1`, [
        sweepId,
      ]);
      expect(rows[0].outcome).toBe('ok');
    } finally {
      await h.close();
      h = undefined;
      await dispatcher.close();
    }
  });
});
