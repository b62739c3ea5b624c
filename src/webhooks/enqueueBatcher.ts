/**
 * Coalesces the webhook path's sync enqueues: while one `enqueue` is in flight, the customers of
 * events applied meanwhile wait and go together in the next one (one BullMQ `addBulk`, one Redis
 * round trip, instead of one each). An idle daemon enqueues at once, so a lone event waits for
 * nothing extra; a busy one pays one round trip per batch, not per event.
 *
 * After a batch is queued, its events are marked queued in Postgres (one update per batch), so
 * the periodic pass and redeliveries leave them alone. Each caller still resolves only once its
 * own customer is queued (and marked, unless marking failed: then the event is merely queued
 * again later), and rejects with the error of its batch. A batch that hangs (Redis hung) holds
 * the next one back; the callers' own bound (src/webhooks/ingest.ts) keeps the answers prompt.
 */
import type { SyncQueue } from '../core/ports.js';
import type { EventKey } from '../sql/webhookEvents.js';
import { activeTrace } from '../tracing/spans.js';

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

interface Entry {
  readonly waiters: Waiter[];
  readonly events: EventKey[];
  /** The trace of the delivery that asked first (tracing on): its sync continues it. */
  readonly trace: string | undefined;
}

/** Enqueues one customer's `webhook` sync, batched with whatever else is waiting. */
export type WebhookEnqueue = (customerId: string, event?: EventKey) => Promise<void>;

/** Records that these events' syncs are queued. */
export type MarkQueued = (events: readonly EventKey[]) => Promise<void>;

export function batchedWebhookEnqueue(queue: SyncQueue, markQueued?: MarkQueued): WebhookEnqueue {
  // Keyed by customer: the sync job is deduplicated by customer anyway, so one id per batch is
  // the same as several adds of it in a row.
  let pending = new Map<string, Entry>();
  let inFlight = false;

  const flush = async (): Promise<void> => {
    inFlight = true;
    while (pending.size > 0) {
      const batch = pending;
      pending = new Map();
      const entries = [...batch.values()];
      try {
        // The batch runs in its first caller's context; each job names its own caller's trace.
        const traces = entries.map((e) => e.trace);
        await queue.enqueue([...batch.keys()], 'webhook', { traces });
      } catch (error) {
        for (const entry of entries) for (const w of entry.waiters) w.reject(error);
        continue;
      }
      await markQueued?.(entries.flatMap((e) => e.events)).catch(() => {});
      for (const entry of entries) for (const w of entry.waiters) w.resolve();
    }
    inFlight = false;
  };

  return (customerId, event) =>
    new Promise<void>((resolve, reject) => {
      const entry = pending.get(customerId) ?? { waiters: [], events: [], trace: activeTrace() };
      pending.set(customerId, entry);
      entry.waiters.push({ resolve, reject });
      if (event) entry.events.push(event);
      if (!inFlight) void flush();
    });
}
