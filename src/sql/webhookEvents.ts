/** The webhook events seen, by source and event id: the dedupe record (DESIGN.md §8). */
import type pg from 'pg';

import { DAY } from '../lib/duration.js';
import type { CustomerEvent as WebhookEvent } from '../core/events.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** What became of an event that was not a duplicate; stored in `webhook_events.result`. */
export type EventResult = 'applied' | 'stale' | 'ignored';

/**
 * Records an event as seen, with what became of it. False when `(source, event_id)` is already there: a repeat delivery.
 * A concurrent delivery of the same event waits on the unique key until the first commits.
 */
export async function insertWebhookEvent(
  db: Queryable,
  event: WebhookEvent,
  receivedAt: Date,
  result: EventResult,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into webhook_events (source, event_id, type, customer_id, occurred_at, received_at, result)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (source, event_id) do nothing`,
    [
      event.source,
      event.eventId,
      event.type,
      event.customerId,
      event.occurredAt,
      receivedAt,
      result,
    ],
  );
  return rowCount === 1;
}

/** Rows deleted per statement, so pruning never holds many locks at once. */
const PRUNE_BATCH = 5_000;

/**
 * Deletes the event ids received before `olderThan`; resolves to how many. Keep at least 4 days
 * ({@link WEBHOOK_EVENT_RETENTION_MS}): senders retry for up to 3 days and 7 hours, and an id
 * forgotten earlier would be applied twice.
 */
export async function pruneWebhookEvents(
  db: Queryable | { readonly $client: Queryable },
  olderThan: Date,
): Promise<number> {
  const client = '$client' in db ? db.$client : db;
  let total = 0;
  for (;;) {
    const { rowCount } = await client.query(
      `delete from webhook_events where ctid in (
         select ctid from webhook_events where received_at < $1 limit ${PRUNE_BATCH})`,
      [olderThan],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < PRUNE_BATCH) return total;
  }
}

/** How long event ids are kept: 4 days (Stripe retries for 3 days, Chargebee for 3 days 7 hours). */
export const WEBHOOK_EVENT_RETENTION_MS = 4 * DAY;
