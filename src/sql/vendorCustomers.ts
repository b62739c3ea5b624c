/**
 * Which of our customers a billing system's own customer id is (`vendor_customers`, migration
 * 0016): written only from events whose id for us the buyer cannot write, read to resolve those
 * whose id for us the buyer could write (src/webhooks/vendorIdentity.ts).
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** One thing a trusted event says: vendor customer `vendorCustomerId` is our `customerId`. */
export interface VendorCustomer {
  readonly source: string;
  readonly vendorCustomerId: string;
  readonly customerId: string;
  readonly eventId: string;
  readonly occurredAt: Date;
}

/**
 * Remembers a vendor customer's id for us, unless an event newer than this one already said
 * otherwise (on equal times the later delivery wins, as for the customer's fields). Saying again
 * what is already known writes nothing, so a redelivery leaves no trace.
 */
export async function rememberVendorCustomer(
  db: Queryable,
  row: VendorCustomer,
  now: Date,
): Promise<void> {
  await db.query(
    `insert into vendor_customers as v
       (source, vendor_customer_id, customer_id, event_id, occurred_at, updated_at)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (source, vendor_customer_id) do update
       set customer_id = excluded.customer_id, event_id = excluded.event_id,
           occurred_at = excluded.occurred_at, updated_at = excluded.updated_at
       where excluded.occurred_at >= v.occurred_at
         and (v.customer_id, v.event_id) is distinct from (excluded.customer_id, excluded.event_id)`,
    [row.source, row.vendorCustomerId, row.customerId, row.eventId, row.occurredAt, now],
  );
}

/** Our customer id for a vendor customer, when a trusted event has said it. */
export async function vendorCustomerOf(
  db: Queryable,
  source: string,
  vendorCustomerId: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ customer_id: string }>(
    'select customer_id from vendor_customers where source = $1 and vendor_customer_id = $2',
    [source, vendorCustomerId],
  );
  return rows[0]?.customer_id;
}
