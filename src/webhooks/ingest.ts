/**
 * Ingesting a verified event (DESIGN.md §8): in one transaction, record the event id (a repeat is
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
import {
  applyCustomerChange,
  lastEventAt,
  lockCustomerEvents,
  lockCustomerRow,
  setLastEvent,
} from '../sql/customerEvents.js';
import { insertWebhookEvent } from '../sql/webhookEvents.js';
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
    await deps.syncQueue.enqueue([event.customerId], 'webhook');
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

/** The transaction: dedupe, order, apply, mark. A duplicate rolls back (nothing was written). */
export async function recordEvent(
  pool: pg.Pool,
  event: WebhookEvent,
  now: Date,
): Promise<Recorded> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('begin');
    const recorded = await decideAndWrite(client, event, now);
    await client.query(recorded.outcome === 'duplicate' ? 'rollback' : 'commit');
    return recorded;
  } catch (error) {
    broken = toError(error);
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    // A client whose query failed may have lost its connection: destroy it rather than reuse it.
    client.release(broken);
  }
}

const DUPLICATE: Recorded = { outcome: 'duplicate' };

async function decideAndWrite(
  client: pg.PoolClient,
  event: WebhookEvent,
  now: Date,
): Promise<Recorded> {
  const { customerId, change } = event;
  if (change === null || customerId === null || isEmptyChange(change)) {
    const reason = change === null ? 'event type not handled' : 'event sets nothing';
    const fresh = await insertWebhookEvent(client, event, now, 'ignored');
    return fresh ? { outcome: 'ignored', reason } : DUPLICATE;
  }
  // Every read below happens under the customer's lock: see the ordering rule above.
  await lockCustomerEvents(client, customerId);
  const last = await lastEventAt(client, customerId);
  if (last !== null && event.occurredAt.getTime() < last.getTime()) {
    return (await insertWebhookEvent(client, event, now, 'stale'))
      ? { outcome: 'stale' }
      : DUPLICATE;
  }
  const exists = await lockCustomerRow(client, customerId);
  if (!exists && change.name === undefined) {
    const fresh = await insertWebhookEvent(client, event, now, 'ignored');
    return fresh ? { outcome: 'ignored', reason: 'unknown customer and no name' } : DUPLICATE;
  }
  if (!(await insertWebhookEvent(client, event, now, 'applied'))) return DUPLICATE;
  // This path queues the customer's sync itself (trigger `webhook`): keep the direct-write
  // notification trigger quiet so the audit names the webhook, not a notification.
  await client.query(`set local customer_sync.quiet = 'on'`);
  await applyCustomerChange(client, customerId, change, now);
  await setLastEvent(client, customerId, event.occurredAt, event.eventId);
  return { outcome: 'applied' };
}
