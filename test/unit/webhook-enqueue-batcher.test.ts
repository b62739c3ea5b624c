/** The webhook path's enqueue batching: one `enqueue` in flight, the rest wait for the next. */
import { describe, expect, it } from 'vitest';

import type { SyncQueue } from '../../src/core/ports.js';
import type { Trigger } from '../../src/core/types.js';
import { batchedWebhookEnqueue } from '../../src/webhooks/enqueueBatcher.js';

/** A queue whose every `enqueue` stays pending until the test settles it. */
class GatedQueue implements SyncQueue {
  readonly calls: { ids: string[]; trigger: Trigger; settle: (error?: Error) => void }[] = [];
  enqueue(customerIds: readonly string[], trigger: Trigger): Promise<void> {
    return new Promise((resolve, reject) =>
      this.calls.push({
        ids: [...customerIds],
        trigger,
        settle: (error) => (error ? reject(error) : resolve()),
      }),
    );
  }
}

const settled = async (p: Promise<void>) => {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return state;
};

describe('batchedWebhookEnqueue', () => {
  it('enqueues a lone event at once, as a webhook sync', async () => {
    const queue = new GatedQueue();
    const done = batchedWebhookEnqueue(queue)('cus_1');
    expect(queue.calls.map((c) => [c.ids, c.trigger])).toEqual([[['cus_1'], 'webhook']]);
    expect(await settled(done)).toBe('pending');
    queue.calls[0]?.settle();
    await expect(done).resolves.toBeUndefined();
  });

  it('batches what arrives while one is in flight; each waits for its own batch', async () => {
    const queue = new GatedQueue();
    const enqueue = batchedWebhookEnqueue(queue);
    const first = enqueue('cus_1');
    const later = [enqueue('cus_2'), enqueue('cus_3'), enqueue('cus_2')];
    expect(queue.calls).toHaveLength(1);
    queue.calls[0]?.settle();
    await first;
    expect(await settled(later[0]!)).toBe('pending');
    // The same customer twice is one id: its sync job is deduplicated by customer anyway.
    expect(queue.calls[1]?.ids).toEqual(['cus_2', 'cus_3']);
    queue.calls[1]?.settle();
    await Promise.all(later);
    expect(queue.calls).toHaveLength(2);
  });

  it('a failed batch rejects its own callers only, and the next batch still goes', async () => {
    const queue = new GatedQueue();
    const enqueue = batchedWebhookEnqueue(queue);
    const first = enqueue('cus_1');
    const second = enqueue('cus_2');
    queue.calls[0]?.settle(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    await expect(first).rejects.toThrow(/ECONNREFUSED/);
    expect(await settled(second)).toBe('pending');
    queue.calls[1]?.settle();
    await expect(second).resolves.toBeUndefined();
    const third = enqueue('cus_3');
    expect(queue.calls[2]?.ids).toEqual(['cus_3']);
    queue.calls[2]?.settle();
    await third;
  });
});
