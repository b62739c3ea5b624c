/**
 * Issue 24 §2: a sync a person asks for by name (`enqueue <id>...`, the console's "Sync now",
 * `retry-failed`) reads the workspace first and repairs what changed on the Agent Engine's side;
 * webhooks and direct writes keep trusting the link's last-known state (one call per change). The
 * person's "read first" survives BullMQ's deduplication: into a waiting trusted job, and past a
 * later trusted trigger while the customer's sync runs.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import type { App } from '../../src/app.js';
import { enqueueCustomers } from '../../src/ops/enqueue.js';
import { explainCustomer } from '../../src/ops/explain.js';
import { retryFailed } from '../../src/ops/retryFailed.js';
import { recordSync } from '../../src/sql/syncState.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const GET_ONE = 'GET /api/v1/workspaces/{id}';

/** Two linked customers, in step; returns their workspaces' ids. */
async function linkedPair(harness: Harness, app: App): Promise<{ a: string; b: string }> {
  await harness.customers([
    { id: 'cus_a', name: 'Alpha' },
    { id: 'cus_b', name: 'Bravo' },
  ]);
  await app.syncQueue.enqueue(['cus_a', 'cus_b'], 'notify');
  const a = await waitFor(() => harness.sim.store.findByName('Alpha'), { what: 'Alpha' });
  const b = await waitFor(() => harness.sim.store.findByName('Bravo'), { what: 'Bravo' });
  await waitForIdle(app);
  return { a: a.id, b: b.id };
}

const sweeps = async (harness: Harness) =>
  (await harness.database.pool.query<{ n: number }>('select count(*)::int as n from sweeps'))
    .rows[0]?.n;

describe('a sync asked for by name', () => {
  it('enqueue repairs a workspace renamed and another deactivated out of band, with no sweep', async () => {
    h = await startHarness();
    const daemon = await h.startDaemon();
    const app = daemon.app;
    const ws = await linkedPair(h, app);
    // Changed in Airbyte's UI, behind our back.
    h.sim.store.rename(ws.a, 'Alpha (renamed in the UI)');
    h.sim.store.setStatus(ws.b, 'inactive');

    // A trusted trigger (a direct write's) spends no call: the sweep is its backstop.
    h.sim.stats.reset();
    await app.syncQueue.enqueue(['cus_a', 'cus_b'], 'notify');
    await waitForIdle(app);
    expect(h.sim.stats.count(GET_ONE)).toBe(0);
    expect(h.sim.store.get(ws.a)?.name).toBe('Alpha (renamed in the UI)');

    // What explain says a sync asked for by name would do...
    const [ea, eb] = await Promise.all([
      explainCustomer(app, 'cus_a'),
      explainCustomer(app, 'cus_b'),
    ]);
    expect(ea.wouldDo.changes.map((c) => c.action)).toEqual(['rename']);
    expect(eb.wouldDo.changes.map((c) => c.action)).toEqual(['activate']);

    // ...is what it does, within a few seconds.
    const asked = Date.now();
    expect(await enqueueCustomers(app, ['cus_a', 'cus_b'])).toEqual({ queued: 2, unknown: [] });
    await waitFor(
      () => h!.sim.store.get(ws.a)?.name === 'Alpha' && h!.sim.store.get(ws.b)?.status === 'active',
      { timeoutMs: 5000, what: 'both workspaces repaired' },
    );
    const tookMs = Date.now() - asked;
    console.info(`named enqueue: both workspaces repaired ${tookMs} ms after enqueue`);
    expect(tookMs).toBeLessThan(5000);
    expect(await sweeps(h)).toBe(0);
    await waitForIdle(app);
    for (const id of ['cus_a', 'cus_b']) {
      expect((await explainCustomer(app, id)).wouldDo.changes, id).toEqual([]);
    }
  });

  it('the console\'s "Sync now" reads first too', async () => {
    const token = 'named-sync-reads-token-7d1f';
    const auth = `Basic ${Buffer.from(`ops:${token}`).toString('base64')}`;
    h = await startHarness({ env: { DASHBOARD_TOKEN: token } });
    const daemon = await h.startDaemon();
    const ws = await linkedPair(h, daemon.app);
    h.sim.store.setStatus(ws.b, 'inactive');
    const page = await request(`${daemon.url}/console/customers/cus_b`, {
      headers: { authorization: auth },
    });
    const text = await page.body.text();
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf"\s+value="([^"]+)"/.exec(text)?.[1] ?? '';
    const answer = await request(`${daemon.url}/console/customers/cus_b/sync`, {
      method: 'POST',
      headers: {
        authorization: auth,
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    await answer.body.dump();
    expect(answer.statusCode).toBe(303);
    await waitFor(() => h!.sim.store.get(ws.b)?.status === 'active', {
      timeoutMs: 5000,
      what: 'the deactivation repaired by Sync now',
    });
  });

  it('retry-failed reads first too', async () => {
    h = await startHarness();
    const daemon = await h.startDaemon();
    const app = daemon.app;
    const ws = await linkedPair(h, app);
    h.sim.store.rename(ws.a, 'Alpha, elsewhere');
    await recordSync(h.database.pool, 'cus_a', new Date(), 'failed', {
      kind: 'permanent',
      reason: 'a test failure',
    });
    expect((await retryFailed(app)).queued).toBe(1);
    await waitFor(() => h!.sim.store.get(ws.a)?.name === 'Alpha', {
      timeoutMs: 5000,
      what: 'the rename repaired by retry-failed',
    });
  });

  it("a person's read-first merged into a waiting trusted job is kept", async () => {
    h = await startHarness();
    const setup = await h.startDaemon();
    const ws = await linkedPair(h, setup.app);
    await setup.close();
    h.sim.store.rename(ws.a, 'Alpha (renamed in the UI)');
    const app = h.app();
    // No daemon runs: a direct write's sync waits, and the person's is deduplicated into it.
    await app.syncQueue.enqueue(['cus_a'], 'notify');
    await enqueueCustomers(app, ['cus_a']);
    // And a later trusted trigger, deduplicated too, does not take it back.
    await app.syncQueue.enqueue(['cus_a'], 'webhook');
    expect((await app.queues.sync.getJobCounts('waiting')).waiting).toBe(1);
    await h.startDaemon();
    await waitFor(() => h!.sim.store.get(ws.a)?.name === 'Alpha', {
      timeoutMs: 5000,
      what: 'the rename repaired',
    });
  });

  it("a trusted trigger after the person's, while the sync runs, does not erase its read-first", async () => {
    h = await startHarness();
    const daemon = await h.startDaemon();
    const app = daemon.app;
    const ws = await linkedPair(h, app);
    h.sim.store.rename(ws.a, 'Alpha (renamed in the UI)');
    // A running sync of cus_a, held at its start (its claim waits for this row lock).
    const blocker = await h.database.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`select 1 from sync_claims where subject = 'cus_a' for update`);
      await app.syncQueue.enqueue(['cus_a'], 'notify');
      await waitFor(async () => (await app.queues.sync.getJobCounts('active')).active === 1, {
        what: 'the sync running',
      });
      // The person's sync is kept as the next one (keepLastIfActive)... and then a webhook's
      // trigger replaces the next one's data (latest data wins).
      await enqueueCustomers(app, ['cus_a']);
      await app.syncQueue.enqueue(['cus_a'], 'webhook');
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    await waitFor(() => h!.sim.store.get(ws.a)?.name === 'Alpha', {
      timeoutMs: 5000,
      what: 'the rename repaired by the next sync',
    });
  });
});
