/** Writing links: the customer ↔ workspace id pairing, and a deleted customer's due time. */
import type pg from 'pg';

import { PermanentError } from '../lib/errors.js';
import { linkedCustomerOf } from './customers.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Stores the link the moment the workspace id is known. The unique workspace id makes a second
 * customer's link to the same workspace fail here, visibly, whatever raced to it.
 */
export async function storeLink(
  db: Queryable,
  customerId: string,
  workspaceId: string,
  workspaceName: string,
  now: Date,
): Promise<void> {
  try {
    await db.query(
      `insert into customer_links (customer_id, workspace_id, workspace_name, linked_at)
       values ($1, $2, $3, $4)
       on conflict (customer_id) do update
         set workspace_id = excluded.workspace_id, workspace_name = excluded.workspace_name,
             linked_at = excluded.linked_at, deleted_seen_at = null, delete_due_at = null`,
      [customerId, workspaceId, workspaceName, now],
    );
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'customer_links_workspace_id_key') {
      const owner = await linkedCustomerOf(db, workspaceId);
      throw new PermanentError(
        `workspace ${workspaceId} ("${workspaceName}") is already linked to customer ${owner ?? 'another customer'}`,
      );
    }
    throw error;
  }
}

export async function setLinkedName(
  db: Queryable,
  customerId: string,
  name: string,
): Promise<void> {
  await db.query('update customer_links set workspace_name = $2 where customer_id = $1', [
    customerId,
    name,
  ]);
}

export async function removeLink(db: Queryable, customerId: string): Promise<void> {
  await db.query('delete from customer_links where customer_id = $1', [customerId]);
}

/**
 * Records when a customer was first seen deleted and when its workspace's delete falls due (the
 * grace in force now). Idempotent: a later sighting keeps the first due time. Returns the due time.
 */
export async function markDeletedSeen(
  db: Queryable,
  customerId: string,
  now: Date,
  graceMs: number,
): Promise<Date | null> {
  const { rows } = await db.query<{ delete_due_at: Date }>(
    `update customer_links
        set deleted_seen_at = coalesce(deleted_seen_at, $2),
            delete_due_at = coalesce(delete_due_at, $2::timestamptz + make_interval(secs => $3::double precision / 1000))
      where customer_id = $1
      returning delete_due_at`,
    [customerId, now, graceMs],
  );
  return rows[0]?.delete_due_at ?? null;
}

/** A customer that came back from `deleted` loses its due time. */
export async function clearDeletedSeen(db: Queryable, customerId: string): Promise<void> {
  await db.query(
    `update customer_links set deleted_seen_at = null, delete_due_at = null
      where customer_id = $1 and deleted_seen_at is not null`,
    [customerId],
  );
}

/** The same as {@link markDeletedSeen} for every deleted customer at once (the sweep's start). */
export async function markAllDeletedSeen(db: Queryable, now: Date, graceMs: number): Promise<void> {
  await db.query(
    `update customer_links l
        set deleted_seen_at = $1,
            delete_due_at = $1::timestamptz + make_interval(secs => $2::double precision / 1000)
       from customers c
      where c.id = l.customer_id and c.status = 'deleted' and l.deleted_seen_at is null`,
    [now, graceMs],
  );
  await db.query(
    `update customer_links l set deleted_seen_at = null, delete_due_at = null
       from customers c
      where c.id = l.customer_id and c.status <> 'deleted' and l.deleted_seen_at is not null`,
  );
}
