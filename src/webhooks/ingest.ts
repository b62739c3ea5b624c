/**
 * Ingesting a verified event (DESIGN.md §8): in one transaction (one round trip to Postgres), record the event id (a repeat is
 * a duplicate and changes nothing) and apply the change to `customers` unless an event newer than
 * it was already applied to that customer; after COMMIT, queue the customer's sync. The Agent
 * Engine is never called here: the sync job does that.
 *
 * Ordering rule: an event strictly older than the customer's last applied event is `stale`. On
 * EQUAL timestamps the later delivery wins, i.e. the one that takes the customer's event lock
 * second applies over the first. Stripe's `created` has one-second resolution, so ties are
 * ordinary there, and a sender's correction sent in the same instant must not be lost.
 *
 * An event for a customer not yet in `customers` creates the row only when it carries a name
 * (`name` is not null); without one it is recorded as `ignored` and the customer's mark is left
 * alone, so the `customer.created` that may still be on its way is not made stale by it.
 */
import type pg from 'pg';

import type { SyncQueue } from '../core/ports.js';
import type { Db } from '../db/pool.js';
import type { Clock } from '../lib/clock.js';
import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { ingestCustomerChange } from '../sql/customerEvents.js';
import { insertWebhookEvent } from '../sql/webhookEvents.js';
import type { WebhookEnqueue } from './enqueueBatcher.js';
import { isEmptyChange } from './handlers.js';
import type { WebhookEvent } from './types.js';

export { pruneWebhookEvents, WEBHOOK_EVENT_RETENTION_MS } from '../sql/webhookEvents.js';

/** What became of an event; each is answered 200 `{"status": outcome}`. */
export type IngestOutcome = 'applied' | 'stale' | 'duplicate' | 'ignored';

/** What the transaction decided. */
export interface Recorded {
  readonly outcome: IngestOutcome;
  /** Why an event was ignored, for the log line. */
  readonly reason?: string;
}

/** What the transaction decided, and whether the sync was queued after it. */
export interface Ingested extends Recorded {
  /** Whether the customer's sync was queued (only applied events queue one). */
  readonly queued: boolean;
}

/** What ingesting needs; the clock gives `updated_at` and `received_at`. */
export interface IngestDeps {
  readonly db: Db;
  readonly syncQueue: SyncQueue;
  readonly logger: Logger;
  readonly clock: Clock;
  /**
   * How an applied event's sync is queued; the routes pass one that batches concurrent events
   * into one Redis round trip (see enqueueBatcher.ts). Default: `syncQueue.enqueue` for each.
   */
  readonly enqueue?: WebhookEnqueue;
}

/**
 * Records and applies one event, then queues the customer's sync. Rejects only when Postgres
 * failed (nothing was acknowledged then). A failed enqueue (Redis down) is logged and swallowed:
 * the change is committed, and the next sweep (or the next sync of that customer) finds it.
 */
export async function ingestWebhookEvent(deps: IngestDeps, event: WebhookEvent): Promise<Ingested> {
  const recorded = await recordEvent(deps.db.$client, event, new Date(deps.clock.now()));
  if (recorded.outcome !== 'applied' || event.customerId === null) {
    return { ...recorded, queued: false };
  }
  try {
    await (deps.enqueue
      ? deps.enqueue(event.customerId)
      : deps.syncQueue.enqueue([event.customerId], 'webhook'));
    return { ...recorded, queued: true };
  } catch (error) {
    deps.logger.warn(
      {
        source: event.source,
        eventId: event.eventId,
        customerId: event.customerId,
        err: toError(error).message,
      },
      'webhook applied but its sync could not be queued; the next sweep will pick it up',
    );
    return { ...recorded, queued: false };
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
