/**
 * People before backfills: a webhook's sync runs ahead of a queued backlog (sweep or
 * `enqueue --all`), whether its customer is new or already waiting in that backlog, and the one
 * queue still holds at most one waiting sync per customer.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { enqueueAll } from '../../src/ops/enqueue.js';
import { signStandardWebhooks } from '../support/webhookSigners.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function send(url: string, type: string, data: Record<string, string>) {
  const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
  const headers = signStandardWebhooks(SECRET, body, { timestamp: Math.floor(Date.now() / 1000) });
  const answer = await request(`${url}/webhooks/billing`, { method: 'POST', headers, body });
  expect(answer.statusCode).toBe(200);
  await answer.body.dump();
}

const BACKLOG = 400;

describe('sync lanes', () => {
  it("a webhook's sync overtakes a queued backfill, for a new customer and for one in the backlog", async () => {
    // 20 calls/s and two workers: the backlog of 400 creates takes far longer than this test waits.
    h = await startHarness({
      env: { BILLING_WEBHOOK_SECRET: SECRET, API_RATE_LIMIT: '20/s', WORKER_CONCURRENCY: '2' },
    });
    await h.customers(
      Array.from({ length: BACKLOG }, (_, i) => ({
        id: `c${String(i).padStart(4, '0')}`,
        name: `Backlog ${i}`,
      })),
    );
    const app = h.app();
    // The manual backfill queues every customer before any daemon runs.
    expect((await enqueueAll(app)).queued).toBe(BACKLOG);
    const daemon = await h.startDaemon();

    // A new customer, and the last customer of the backlog renamed: both by webhook.
    await send(daemon.url, 'customer.created', { id: 'cus_new', name: 'Signed Up Now' });
    await send(daemon.url, 'customer.updated', { id: 'c0399', name: 'Renamed Now' });
    // c0399's backfill job moved to the person lane: still one job for it, no second.
    await waitFor(() => h!.sim.store.findByName('Signed Up Now'), {
      timeoutMs: 10_000,
      what: "the new customer's workspace",
    });
    await waitFor(() => h!.sim.store.findByName('Renamed Now'), {
      timeoutMs: 10_000,
      what: "the backlog customer's workspace, under its new name",
    });
    // Both ran while most of the backlog still waited behind them.
    const left = await app.queues.sync.getJobCounts('prioritized', 'waiting');
    expect((left.prioritized ?? 0) + (left.waiting ?? 0)).toBeGreaterThan(BACKLOG / 2);
    expect(h.sim.store.findByName('Backlog 399')).toBeUndefined();
  });

  it('holds one waiting sync per customer across lanes: a person trigger promotes, never duplicates', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'cus_a', name: 'A' },
      { id: 'cus_b', name: 'B' },
    ]);
    const app = h.app();
    await app.syncQueue.enqueue(['cus_a', 'cus_b'], 'sweep', {
      sweepId: '00000000-0000-4000-8000-000000000001',
    });
    await app.syncQueue.enqueue(['cus_a'], 'webhook');
    await app.syncQueue.enqueue(['cus_a'], 'notify');
    await app.syncQueue.enqueue(['cus_b'], 'sweep');
    const counts = await app.queues.sync.getJobCounts('waiting', 'prioritized', 'active');
    expect(counts).toEqual({ waiting: 1, prioritized: 1, active: 0 });
    const [waiting] = await app.queues.sync.getJobs(['waiting']);
    // The job kept its first trigger's data (deduplicated), and now runs in the person lane.
    expect(waiting?.data.subject).toBe('cus_a');
    expect(waiting?.priority).toBe(0);
    const [backfill] = await app.queues.sync.getJobs(['prioritized']);
    expect(backfill?.data.subject).toBe('cus_b');

    // And they run: both converge, each once.
    await h.startDaemon();
    await waitFor(() => h!.sim.store.findByName('A') && h!.sim.store.findByName('B'), {
      timeoutMs: 10_000,
      what: 'both workspaces',
    });
    expect(h.sim.stats.workspacesCreated).toBe(2);
  });
});
