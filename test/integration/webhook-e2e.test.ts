/**
 * A billing system's signed events, through a running daemon, all the way to the workspace.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { signStandardWebhooks } from '../support/webhookSigners.js';
import { type Harness, startHarness } from '../support/harness.js';
import { REDIS_MODES } from '../support/redis.js';
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
  return { status: answer.statusCode, body: await answer.body.json() };
}

describe('billing webhooks through a running daemon', () => {
  it.each(REDIS_MODES)(
    'a receiver (WORKER_CONCURRENCY=0) records and queues the event; a daemon with workers syncs it (%s Redis)',
    async (redis) => {
      h = await startHarness({ redis, env: { BILLING_WEBHOOK_SECRET: SECRET } });
      const receiver = await h.startDaemon({}, { WORKER_CONCURRENCY: '0' });
      const app = h.app();
      expect(
        await send(receiver.url, 'customer.created', { id: 'cus_r', name: 'Received' }),
      ).toMatchObject({ status: 200 });
      // Acknowledged means committed and queued; the receiver itself consumes nothing, and is ready.
      expect(await app.queues.sync.getJobCounts('waiting')).toEqual({ waiting: 1 });
      expect(await app.queues.sync.getWorkers()).toHaveLength(0);
      const ready = await request(`${receiver.url}/readyz`);
      expect(ready.statusCode).toBe(200);
      expect(await ready.body.json()).toEqual({ postgres: true, redis: true, workers: true });
      expect(h.sim.store.findByName('Received')).toBeUndefined();

      // A daemon that runs workers (on another host, in production) takes the job.
      await h.startDaemon();
      const made = await waitFor(() => h!.sim.store.findByName('Received'), {
        timeoutMs: 5_000,
        what: 'the workspace',
      });
      expect(made.status).toBe('active');
    },
  );

  it('created → active workspace; deactivated → inactive; reactivated → active; deleted (DELETE_GRACE=0) → gone', async () => {
    h = await startHarness({ env: { BILLING_WEBHOOK_SECRET: SECRET, DELETE_GRACE: '0' } });
    const daemon = await h.startDaemon();
    const sim = h.sim;
    const named = () => sim.store.findByName('Acme Corp');

    expect(
      await send(daemon.url, 'customer.created', { id: 'cus_1', name: 'Acme Corp' }),
    ).toMatchObject({ status: 200 });
    const created = await waitFor(() => named(), { timeoutMs: 5_000, what: 'the workspace' });
    expect(created.status).toBe('active');

    await send(daemon.url, 'customer.deactivated', { id: 'cus_1' });
    await waitFor(() => named()?.status === 'inactive', { timeoutMs: 5_000, what: 'deactivation' });

    await send(daemon.url, 'customer.reactivated', { id: 'cus_1' });
    await waitFor(() => named()?.status === 'active', { timeoutMs: 5_000, what: 'reactivation' });

    await send(daemon.url, 'customer.updated', { id: 'cus_1', name: 'Acme Corporation' });
    await waitFor(() => sim.store.get(created.id)?.name === 'Acme Corporation', {
      timeoutMs: 5_000,
      what: 'rename',
    });

    await send(daemon.url, 'customer.deleted', { id: 'cus_1' });
    await waitFor(() => sim.store.get(created.id) === undefined, {
      timeoutMs: 5_000,
      what: 'deletion',
    });
    const { rows } = await h.database.pool.query(`select status from customers where id = 'cus_1'`);
    expect(rows[0].status).toBe('deleted');
    // One workspace was ever made for this customer: every change went to it by id.
    expect(sim.stats.snapshot().workspacesCreated).toBe(1);
  });

  it('a direct write to the table reaches the workspace without a webhook', async () => {
    h = await startHarness();
    const daemon = await h.startDaemon();
    await waitFor(async () => (await daemon.app.queues.sync.getWorkers()).length > 0, {
      timeoutMs: 5_000,
    });
    await h.database.pool.query(
      `insert into customers (id, name) values ('cus_direct', 'Direct Co')`,
    );
    const ws = await waitFor(() => h!.sim.store.findByName('Direct Co'), {
      timeoutMs: 5_000,
      what: 'the workspace',
    });
    await h.database.pool.query(`update customers set status = 'inactive' where id = 'cus_direct'`);
    await waitFor(() => h!.sim.store.get(ws.id)?.status === 'inactive', {
      timeoutMs: 5_000,
      what: 'deactivation',
    });
  });
});
