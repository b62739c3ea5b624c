/**
 * Coalesces the webhook path's sync enqueues: while one `enqueue` is in flight, the customers of
 * events applied meanwhile wait and go together in the next one (one BullMQ `addBulk`, one Redis
 * round trip, instead of one each). An idle daemon enqueues at once, so a lone event waits for
 * nothing extra; a busy one pays one round trip per batch, not per event.
 *
 * Each caller still resolves only once its own customer is queued, and rejects with the error of
 * its batch, so an acknowledged event keeps meaning "committed, and queued unless we said so".
 */
import type { SyncQueue } from '../core/ports.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Enqueues one customer's `webhook` sync, batched with whatever else is waiting. */
export type WebhookEnqueue = (customerId: string) => Promise<void>;

export function batchedWebhookEnqueue(queue: SyncQueue): WebhookEnqueue {
  // Keyed by customer: the sync job is deduplicated by customer anyway, so one id per batch is
  // the same as several adds of it in a row.
  let pending = new Map<string, Waiter[]>();
  let inFlight = false;

  const flush = async (): Promise<void> => {
    inFlight = true;
    while (pending.size > 0) {
      const batch = pending;
      pending = new Map();
      try {
        await queue.enqueue([...batch.keys()], 'webhook');
        for (const waiters of batch.values()) for (const w of waiters) w.resolve();
      } catch (error) {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
      }
    }
    inFlight = false;
  };

  return (customerId) =>
    new Promise<void>((resolve, reject) => {
      const waiters = pending.get(customerId);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(customerId, [{ resolve, reject }]);
      if (!inFlight) void flush();
    });
}
