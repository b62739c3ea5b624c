/** The webhook events seen, by source and event id: the dedupe record (docs/design.md §8). */
import type pg from 'pg';

import { DAY } from '../lib/duration.js';
import type { CustomerEvent as WebhookEvent } from '../core/events.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** What became of an event that was not a duplicate; stored in `webhook_events.result`. */
export type EventResult = 'applied' | 'stale' | 'ignored';

/**
 * Records an event as seen, with what became of it. False when `(source, event_id)` is already
 * there, or `(source, body_digest)`: a repeat delivery, under the same id or a new one. A
 * concurrent delivery of the same event waits on the unique key until the first commits.
 */
export async function insertWebhookEvent(
  db: Queryable,
  event: WebhookEvent,
  receivedAt: Date,
  result: EventResult,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into webhook_events
       (source, event_id, type, customer_id, occurred_at, received_at, result, body_digest)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict do nothing`,
    [
      event.source,
      event.eventId,
      event.type,
      event.customerId,
      event.occurredAt,
      receivedAt,
      result,
      event.bodyDigest ?? null,
    ],
  );
  return rowCount === 1;
}

/** Whether a recorded event was applied but its sync was never queued (a redelivery queues it). */
export async function isAppliedUnqueued(db: Queryable, key: EventKey): Promise<boolean> {
  const { rows } = await db.query<{ unqueued: boolean }>(
    `select result = 'applied' and queued_at is null as unqueued
       from webhook_events where source = $1 and event_id = $2`,
    [key.source, key.eventId],
  );
  return rows[0]?.unqueued ?? false;
}

/** One recorded event, by its key: what a queued sync is marked against. */
export interface EventKey {
  readonly source: string;
  readonly eventId: string;
}

/** An applied event whose sync was not queued yet. */
export interface UnqueuedEvent extends EventKey {
  readonly customerId: string;
}

/**
 * Up to `limit` applied events received before `receivedBefore` whose sync was never queued,
 * oldest first. Served by the partial index `webhook_events_unqueued_idx`, which holds only
 * those rows: cheap when there are none.
 */
export async function unqueuedWebhookEvents(
  db: Queryable,
  receivedBefore: Date,
  limit: number,
): Promise<UnqueuedEvent[]> {
  const { rows } = await db.query<{ source: string; event_id: string; customer_id: string }>(
    `select source, event_id, customer_id from webhook_events
     where result = 'applied' and queued_at is null and received_at < $1
     order by received_at limit $2`,
    [receivedBefore, limit],
  );
  return rows.map((r) => ({ source: r.source, eventId: r.event_id, customerId: r.customer_id }));
}

/** Marks events' syncs as queued at `at` (the first mark stands). */
export async function markWebhookEventsQueued(
  db: Queryable,
  keys: readonly EventKey[],
  at: Date,
): Promise<void> {
  if (keys.length === 0) return;
  await db.query(
    `update webhook_events e set queued_at = $3
     from unnest($1::text[], $2::text[]) as k(source, event_id)
     where e.source = k.source and e.event_id = k.event_id and e.queued_at is null`,
    [keys.map((k) => k.source), keys.map((k) => k.eventId), at],
  );
}

/** Rows deleted per statement, so pruning never holds many locks at once. */
const PRUNE_BATCH = 5_000;

/**
 * Deletes the event ids (and with them their body digests) received before `olderThan`; resolves
 * to how many. Keep at least 4 days
 * ({@link WEBHOOK_EVENT_RETENTION_MS}): senders retry for up to 3 days and 7 hours, and an id
 * forgotten earlier would be applied twice.
 */
export async function pruneWebhookEvents(db: Queryable, olderThan: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(
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
