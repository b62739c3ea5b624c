/**
 * An applied event whose sync could not be queued is recorded as such (`queued_at` null) and is
 * queued later: by a redelivery of its id, or by the periodic pass every daemon runs
 * (src/webhooks/requeue.ts). Over real HTTP and a real database; the queue is a recording one
 * that can fail or hang like Redis.
 */
import { describe, expect, it } from 'vitest';

import { createLogger } from '../../src/lib/logger.js';
import { webhookRequeuer } from '../../src/webhooks/requeue.js';
import { RecordingQueue } from '../support/webhookServer.js';
import { newBillingSecret, signStandardWebhooks } from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const SECRET = newBillingSecret();

const { database, server, clock } = webhookSuite({ now: NOW, secrets: { billing: [SECRET] } });

const send = (id: string, customer: string, name = 'Acme') => {
  const raw = JSON.stringify({
    type: 'customer.created',
    timestamp: '2026-11-28T12:00:00.000Z',
    data: { id: customer, name },
  });
  return server.post(
    '/webhooks/billing',
    raw,
    signStandardWebhooks(SECRET, raw, { id, timestamp: T }),
  );
};

const queuedAt = async () =>
  (
    await database.pool.query<{ event_id: string; queued_at: Date | null }>(
      'select event_id, queued_at from webhook_events order by event_id',
    )
  ).rows;

const silent = createLogger({ level: 'silent' });

describe('an applied event whose sync was not queued', () => {
  it('is marked queued when its sync was queued, and left unmarked when not', async () => {
    await send('msg_ok', 'cus_1');
    server.queue.failing = true;
    await send('msg_down', 'cus_2');
    expect(await queuedAt()).toEqual([
      { event_id: 'msg_down', queued_at: null },
      { event_id: 'msg_ok', queued_at: new Date(NOW) },
    ]);
  });

  it('a redelivery of its id queues it (still answered duplicate), once', async () => {
    server.queue.failing = true;
    expect((await send('msg_1', 'cus_1')).json).toEqual({ status: 'applied' });
    server.queue.failing = false;
    expect(server.queue.ids).toEqual([]);
    expect((await send('msg_1', 'cus_1')).json).toEqual({ status: 'duplicate' });
    expect(server.queue.calls).toEqual([{ ids: ['cus_1'], trigger: 'webhook' }]);
    expect(await queuedAt()).toEqual([{ event_id: 'msg_1', queued_at: new Date(NOW) }]);
    // Queued now: a further redelivery changes nothing and queues nothing.
    expect((await send('msg_1', 'cus_1')).json).toEqual({ status: 'duplicate' });
    expect(server.queue.calls).toHaveLength(1);
  });

  it('the periodic pass queues each customer once, marks the events, and leaves young ones to their delivery', async () => {
    server.queue.failing = true;
    await send('msg_a', 'cus_1', 'One');
    await send('msg_b', 'cus_1', 'One again');
    await send('msg_c', 'cus_2', 'Two');
    const queue = new RecordingQueue();
    const pass = webhookRequeuer({ pool: database.pool, syncQueue: queue, clock, logger: silent });
    // Received this instant: their own delivery may still be queueing them.
    expect(await pass()).toBe(0);
    clock.set(NOW + 5_000);
    expect(await pass()).toBe(3);
    expect(queue.calls).toEqual([{ ids: ['cus_1', 'cus_2'], trigger: 'webhook' }]);
    expect((await queuedAt()).map((r) => r.queued_at)).toEqual(
      Array(3).fill(new Date(NOW + 5_000)),
    );
    // Nothing pending: the next pass queues nothing.
    expect(await pass()).toBe(0);
    expect(queue.calls).toHaveLength(1);
  });

  it('a pass that fails leaves the events pending; one that hangs is not overlapped', async () => {
    server.queue.failing = true;
    await send('msg_a', 'cus_1');
    clock.set(NOW + 5_000);
    const down = new RecordingQueue();
    down.failing = true;
    const failing = webhookRequeuer({
      pool: database.pool,
      syncQueue: down,
      clock,
      logger: silent,
    });
    expect(await failing()).toBe(0);
    expect(await queuedAt()).toEqual([{ event_id: 'msg_a', queued_at: null }]);

    let release: () => void = () => {};
    const calls: string[][] = [];
    const hung = {
      enqueue: (ids: readonly string[]) => {
        calls.push([...ids]);
        return new Promise<void>((resolve) => (release = resolve));
      },
    };
    const pass = webhookRequeuer({ pool: database.pool, syncQueue: hung, clock, logger: silent });
    const first = pass();
    await expect.poll(() => calls.length).toBe(1);
    expect(await pass()).toBe(0);
    expect(calls).toHaveLength(1);
    release();
    expect(await first).toBe(1);
    expect(await queuedAt()).toEqual([{ event_id: 'msg_a', queued_at: new Date(NOW + 5_000) }]);
  });
});
