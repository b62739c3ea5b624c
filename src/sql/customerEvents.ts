/**
 * Webhook writes to `customers`, guarded per customer and per field by the last event that set
 * that field (`customer_event_marks.name_event_at`, `.status_event_at`): stripe-sync-engine's
 * timestamp protection, field by field, with the tie rule that on equal timestamps the later
 * delivery wins.
 *
 * The decision and the writes are one call of the plpgsql function `customer_sync_ingest`
 * (migrations/0016_webhook_body_digests.sql; first written in 0002, then 0005): one round trip
 * instead of nine, which is what bounded webhook throughput. Its steps, all in the call's own
 * transaction:
 * 1. `pg_advisory_xact_lock` on the customer (taken before anything is read, so "later delivery"
 *    means exactly "took this lock later", whether or not the row or the mark exists yet);
 * 2. each field the event sets is taken when the event is not older than that field's mark; none
 *    taken → `stale`; else lock the customer's row, and a customer not there with no name taken →
 *    `ignored`; else `applied`;
 * 3. record the event id and body digest with that result (`queued_at` null); if either was
 *    already there → `duplicate`, nothing was written (every write comes after this one), and
 *    `unqueued` says whether the event of that id was applied and its sync still not queued;
 * 4. when applied: `customer_sync.quiet` set locally, the fields taken written with
 *    `updated_at = now`, and their marks moved to this event.
 */
import type pg from 'pg';

import type { CustomerChange, CustomerEvent as WebhookEvent } from '../core/events.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/**
 * What the function decided: `reason` only for an ignored event; `unqueued` only for a duplicate
 * whose first delivery was applied and whose sync is still not queued (a redelivery queues it).
 */
export interface IngestDecision {
  readonly outcome: 'applied' | 'stale' | 'duplicate' | 'ignored';
  readonly reason?: string;
  readonly unqueued?: true;
}

const OUTCOMES = new Set<string>(['applied', 'stale', 'duplicate', 'ignored']);

/**
 * Applies an event that changes one customer (`customerId` not null, a change that sets something)
 * unless it is a duplicate, stale, or for an unknown customer without a name. Must be called
 * outside an explicit transaction, so the lock and the quiet setting end when it returns.
 */
export async function ingestCustomerChange(
  db: Queryable,
  event: WebhookEvent & { readonly customerId: string },
  change: CustomerChange,
  now: Date,
): Promise<IngestDecision> {
  const { rows } = await db.query<{ outcome: string; reason: string | null; unqueued: boolean }>(
    'select outcome, reason, unqueued from customer_sync_ingest($1, $2, $3, $4, $5, $6, $7, $8, $9)',
    [
      event.source,
      event.eventId,
      event.type,
      event.customerId,
      event.occurredAt,
      now,
      change.name ?? null,
      change.status ?? null,
      event.bodyDigest ?? null,
    ],
  );
  const row = rows[0];
  if (!row || !OUTCOMES.has(row.outcome)) {
    throw new Error(`customer_sync_ingest returned ${JSON.stringify(row?.outcome)}`);
  }
  const outcome = row.outcome as IngestDecision['outcome'];
  return {
    outcome,
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(outcome === 'duplicate' && row.unqueued ? { unqueued: true as const } : {}),
  };
}
