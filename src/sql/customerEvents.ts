/**
 * Webhook writes to `customers`, guarded per customer by the newest event applied
 * (`customer_event_marks`): stripe-sync-engine's timestamp protection, with the tie rule that on
 * equal timestamps the later delivery wins.
 */
import type pg from 'pg';

import type { CustomerChange } from '../webhooks/types.js';

/** Separates this lock space from every other advisory lock customer-sync takes. */
const EVENT_LOCK_SPACE = 'customer-sync:customer-events';

/**
 * Serialises webhook ingestion for one customer until the transaction ends. Taken before anything
 * else is read, so "later delivery" means exactly "took this lock later", whether or not the
 * customer's row or mark exists yet (a row lock could not cover a row that does not exist).
 */
export async function lockCustomerEvents(client: pg.PoolClient, customerId: string): Promise<void> {
  await client.query('select pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
    EVENT_LOCK_SPACE,
    customerId,
  ]);
}

/** The time of the newest event applied to the customer, or null if none was. */
export async function lastEventAt(client: pg.PoolClient, customerId: string): Promise<Date | null> {
  const { rows } = await client.query<{ last_event_at: Date }>(
    'select last_event_at from customer_event_marks where customer_id = $1',
    [customerId],
  );
  return rows[0]?.last_event_at ?? null;
}

/** Whether the customer's row exists; locks it so no one deletes it before we write it. */
export async function lockCustomerRow(client: pg.PoolClient, customerId: string): Promise<boolean> {
  const { rowCount } = await client.query('select 1 from customers where id = $1 for update', [
    customerId,
  ]);
  return rowCount === 1;
}

/**
 * Writes the change: the given fields, and `updated_at = now`. A customer not yet there is
 * created (status `active` unless the change says otherwise) only when the change has a name,
 * since `name` is not null; the caller decides that beforehand.
 */
export async function applyCustomerChange(
  client: pg.PoolClient,
  customerId: string,
  change: CustomerChange,
  now: Date,
): Promise<void> {
  // The upsert also covers a row another system inserted since `lockCustomerRow` looked.
  if (change.name !== undefined) {
    await client.query(
      `insert into customers as c (id, name, status, created_at, updated_at)
       values ($1, $2, coalesce($3, 'active'), $4, $4)
       on conflict (id) do update
         set name = excluded.name, status = coalesce($3, c.status), updated_at = $4`,
      [customerId, change.name, change.status ?? null, now],
    );
  } else {
    await client.query(
      'update customers set status = coalesce($2, status), updated_at = $3 where id = $1',
      [customerId, change.status ?? null, now],
    );
  }
}

/** Records the event as the newest applied to the customer. */
export async function setLastEvent(
  client: pg.PoolClient,
  customerId: string,
  at: Date,
  eventId: string,
): Promise<void> {
  await client.query(
    `insert into customer_event_marks (customer_id, last_event_at, last_event_id)
     values ($1, $2, $3)
     on conflict (customer_id) do update
       set last_event_at = excluded.last_event_at, last_event_id = excluded.last_event_id`,
    [customerId, at, eventId],
  );
}
