/**
 * Ingesting a verified event (docs/design.md §8): in one transaction (one round trip to Postgres),
 * record the event id (a repeat is a duplicate and changes nothing) and apply each field the event
 * sets unless an event newer than it already set that field; after COMMIT, queue the customer's
 * sync. The Agent Engine is never called here: the sync job does that.
 *
 * Ordering rule, per field (`name`, `status`): an event strictly older than the last event that
 * set a field leaves that field alone; an event none of whose fields it may set is `stale`. On
 * EQUAL timestamps the later delivery wins, i.e. the one that takes the customer's event lock
 * second applies over the first. Stripe's `created` has one-second resolution, so ties are
 * ordinary there, and a sender's correction sent in the same instant must not be lost.
 *
 * An event for a customer not yet in `customers` creates the row only when it carries a name
 * (`name` is not null); without one it is recorded as `ignored` and the customer's marks are left
 * alone, so the `customer.created` that may still be on its way is not made stale by it.
 *
 * Recording is what accepts an event. Queueing its sync waits at most {@link ENQUEUE_BOUND_MS}
 * (Redis may hang or be down); an applied event whose sync was not queued keeps `queued_at` null
 * and is queued later by a redelivery of its id or by every daemon's periodic pass
 * (src/webhooks/requeue.ts), not left for the next sweep.
 */
import type pg from 'pg';

import type { SyncQueue } from '../core/ports.js';
import type { Clock } from '../lib/clock.js';
import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { ingestCustomerChange } from '../sql/customerEvents.js';
import {
  insertWebhookEvent,
  isAppliedUnqueued,
  markWebhookEventsQueued,
} from '../sql/webhookEvents.js';
import type { WebhookEnqueue } from './enqueueBatcher.js';
import { isEmptyChange } from './eventSchemas.js';
import type { WebhookEvent } from './types.js';

export { pruneWebhookEvents, WEBHOOK_EVENT_RETENTION_MS } from '../sql/webhookEvents.js';

/** What became of an event; each is answered 200 `{"status": outcome}`. */
export type IngestOutcome = 'applied' | 'stale' | 'duplicate' | 'ignored';

/** What the transaction decided. */
export interface Recorded {
  readonly outcome: IngestOutcome;
  /** Why an event was ignored, for the log line. */
  readonly reason?: string;
  /** A duplicate whose first delivery was applied but whose sync was never queued. */
  readonly unqueued?: true;
}

/** What the transaction decided, and whether the sync was queued after it. */
export interface Ingested extends Recorded {
  /** Whether the customer's sync was queued (applied events, and redeliveries of unqueued ones). */
  readonly queued: boolean;
}

/**
 * How long a delivery waits for its sync to be queued before it is answered anyway: short enough
 * that, with the Postgres round trip, the answer comes within a second when Redis hangs.
 */
export const ENQUEUE_BOUND_MS = 750;

/** What ingesting needs; the clock gives `updated_at`, `received_at` and `queued_at`. */
export interface IngestDeps {
  readonly pool: pg.Pool;
  readonly syncQueue: SyncQueue;
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * How an applied event's sync is queued and marked; the routes pass one that batches
   * concurrent events into one Redis round trip (see enqueueBatcher.ts). Default: enqueue and
   * mark each on its own.
   */
  readonly enqueue?: WebhookEnqueue;
  /** The bound on queueing; default {@link ENQUEUE_BOUND_MS}. */
  readonly enqueueBoundMs?: number;
  /**
   * The customers live in the user's own source (CUSTOMERS_SOURCE), which is theirs to write: an
   * event only queues the customer's sync, which reads the source. Default: written to ours.
   */
  readonly notifyOnly?: boolean;
}

/**
 * Records and applies one event, then queues the customer's sync, waiting for that at most the
 * bound. Rejects only when Postgres failed (nothing was acknowledged then). An enqueue that failed
 * or is still pending at the bound is logged, and the event stays recorded as not queued: a
 * redelivery or the periodic pass queues it (a late success marks it queued itself).
 */
export async function ingestWebhookEvent(deps: IngestDeps, event: WebhookEvent): Promise<Ingested> {
  const now = new Date(deps.clock.now());
  const recorded = deps.notifyOnly
    ? await recordNotification(deps.pool, event, now)
    : await recordEvent(deps.pool, event, now);
  const due = recorded.outcome === 'applied' || recorded.unqueued === true;
  if (!due || event.customerId === null) return { ...recorded, queued: false };
  const key = { source: event.source, eventId: event.eventId };
  const enqueue =
    deps.enqueue ??
    (async (customerId: string) => {
      await deps.syncQueue.enqueue([customerId], 'webhook');
      await markWebhookEventsQueued(deps.pool, [key], now).catch(() => {});
    });
  const failure = await within(
    enqueue(event.customerId, key),
    deps.enqueueBoundMs ?? ENQUEUE_BOUND_MS,
  );
  if (failure === undefined) return { ...recorded, queued: true };
  deps.logger.warn(
    { source: event.source, eventId: event.eventId, customerId: event.customerId, err: failure },
    'webhook recorded but its sync could not be queued yet; it will be re-queued',
  );
  return { ...recorded, queued: false };
}

/** Waits for `work` at most `ms`: undefined when it succeeded in time, else why not. */
async function within(work: Promise<void>, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`still pending after ${ms} ms`), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => undefined,
        (error: unknown) => toError(error).message,
      ),
      bound,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Dedupe, order, apply, mark: one round trip, and one transaction, whatever the outcome. An event
 * we do not act on is only recorded (a plain insert); one that changes a customer goes through
 * `customer_sync_ingest` (see src/sql/customerEvents.ts). A duplicate writes nothing.
 */
export async function recordEvent(
  pool: pg.Pool,
  event: WebhookEvent,
  now: Date,
): Promise<Recorded> {
  const { customerId, change } = event;
  if (change === null || customerId === null || isEmptyChange(change)) {
    const reason = change === null ? 'event type not handled' : 'event sets nothing';
    const fresh = await insertWebhookEvent(pool, event, now, 'ignored');
    return fresh ? { outcome: 'ignored', reason } : DUPLICATE;
  }
  // pg's pool.query destroys a client whose query failed, so a lost connection is not reused.
  return ingestCustomerChange(pool, { ...event, customerId }, change, now);
}

const DUPLICATE: Recorded = { outcome: 'duplicate' };

/**
 * For a user's source: an event about a customer is recorded (deduplicated by its id) and, as
 * `applied`, queues that customer's sync, which reads the source as it is then; nothing is
 * written to the customers. Its order does not matter: the sync reads the present, not the event.
 */
export async function recordNotification(
  pool: pg.Pool,
  event: WebhookEvent,
  now: Date,
): Promise<Recorded> {
  const { customerId, change } = event;
  if (change === null || customerId === null || isEmptyChange(change)) {
    return recordEvent(pool, event, now);
  }
  if (await insertWebhookEvent(pool, event, now, 'applied')) return { outcome: 'applied' };
  const key = { source: event.source, eventId: event.eventId };
  return (await isAppliedUnqueued(pool, key)) ? { ...DUPLICATE, unqueued: true } : DUPLICATE;
}
