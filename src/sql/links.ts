/** Writing links: the customer ↔ workspace id pairing, and a deleted customer's due time. */
import type pg from 'pg';

import type { MISSING, WorkspaceStatus } from '../core/types.js';
import { PermanentError } from '../lib/errors.js';
import { linkedCustomerOf } from './customers.js';
import type { CustomerSource } from './source.js';
import { assertClaim, type Claim } from './syncClaims.js';
import { inTransaction } from './transaction.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Runs `fn` in a transaction holding the workspace's own lock: linking a workspace and deleting
 * or deactivating it as an orphan both take it, so an orphan's "unlinked?" check and its API call
 * cannot straddle an adoption.
 */
export async function withWorkspaceLock<T>(
  pool: pg.Pool,
  workspaceId: string,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query(`select pg_advisory_xact_lock(hashtextextended('workspace:' || $1, 0))`, [
      workspaceId,
    ]);
    return fn(client);
  });
}

/**
 * Stores the link the moment the workspace id is known, under the workspace's lock, while the
 * sync's claim is still the newest (a stale sync must not move a link a newer one made). The
 * unique workspace id makes a second customer's link to the same workspace fail here, visibly,
 * whatever raced to it. `regionId`: the region our mint created it in; null when unknown (adopted).
 */
export async function storeLink(
  pool: pg.Pool,
  claim: Claim,
  customerId: string,
  workspaceId: string,
  workspaceName: string,
  workspaceStatus: WorkspaceStatus | null,
  regionId: string | null = null,
): Promise<void> {
  try {
    await withWorkspaceLock(pool, workspaceId, async (client) => {
      await assertClaim(client, claim);
      await client.query(
        `with minted as (delete from pending_mints where customer_id = $1)
         insert into customer_links (customer_id, workspace_id, workspace_name, workspace_status, linked_at, region_id)
         values ($1, $2, $3, $4, now(), $5)
         on conflict (customer_id) do update
           set workspace_id = excluded.workspace_id, workspace_name = excluded.workspace_name,
               workspace_status = excluded.workspace_status, linked_at = excluded.linked_at,
               deleted_seen_at = null, delete_due_at = null,
               -- The same workspace found again keeps what is known of its region: it was
               -- minted before, and a mint names a region only when it creates.
               region_id = case when customer_links.workspace_id = excluded.workspace_id
                                then customer_links.region_id else excluded.region_id end`,
        [customerId, workspaceId, workspaceName, workspaceStatus, regionId],
      );
    });
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'customer_links_workspace_id_key') {
      const owner = await linkedCustomerOf(pool, workspaceId);
      throw new PermanentError(
        `workspace ${workspaceId} ("${workspaceName}") is already linked to customer ${owner ?? 'another customer'}`,
      );
    }
    throw error;
  }
}

/**
 * Remembers that a workspace is about to be minted for `customerId` under `name`, until the link
 * is stored ({@link storeLink} forgets it). An ungated create does this with its audit row
 * (`startAudit`); a gated one (a re-creation) here.
 */
export async function rememberMint(db: Queryable, customerId: string, name: string): Promise<void> {
  await db.query(
    `insert into pending_mints (customer_id, workspace_name, at) values ($1, $2, now())
     on conflict (customer_id) do update set workspace_name = excluded.workspace_name, at = now()`,
    [customerId, name],
  );
}

/** Forgets a pending mint's name: no workspace of that name is waiting to be linked. */
export async function forgetMint(db: Queryable, customerId: string): Promise<void> {
  await db.query('delete from pending_mints where customer_id = $1', [customerId]);
}

/**
 * Records the linked workspace's state as an API answer showed it (or `missing`), so the next
 * sync of a customer in step with it makes no call.
 */
export async function setLinkedState(
  db: Queryable,
  customerId: string,
  workspaceId: string,
  state: { name?: string; status: WorkspaceStatus | typeof MISSING },
): Promise<void> {
  await db.query(
    `update customer_links set workspace_name = coalesce($3, workspace_name), workspace_status = $4
      where customer_id = $1 and workspace_id = $2`,
    [customerId, workspaceId, state.name ?? null, state.status],
  );
}

/**
 * Forgets the customer's link to this workspace (deleted, or found gone), while the sync's claim
 * is still the newest: a stale sync must not drop a link a newer one made.
 */
export async function removeLink(
  pool: pg.Pool,
  claim: Claim,
  customerId: string,
  workspaceId: string,
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await assertClaim(client, claim);
    await client.query('delete from customer_links where customer_id = $1 and workspace_id = $2', [
      customerId,
      workspaceId,
    ]);
  });
}

/**
 * Records when a customer was first seen deleted and when its workspace's delete falls due (the
 * grace in force now), on the database's clock. Idempotent: a later sighting keeps the first due
 * time. Returns both times.
 */
export async function markDeletedSeen(
  db: Queryable,
  customerId: string,
  graceMs: number,
): Promise<{ seenAt: Date; dueAt: Date } | null> {
  const { rows } = await db.query<{ deleted_seen_at: Date; delete_due_at: Date }>(
    `update customer_links
        set deleted_seen_at = coalesce(deleted_seen_at, now()),
            delete_due_at = coalesce(delete_due_at, now() + make_interval(secs => $2::double precision / 1000))
      where customer_id = $1
      returning deleted_seen_at, delete_due_at`,
    [customerId, graceMs],
  );
  const row = rows[0];
  return row ? { seenAt: row.deleted_seen_at, dueAt: row.delete_due_at } : null;
}

/** A customer that came back from `deleted` loses its due time. */
export async function clearDeletedSeen(db: Queryable, customerId: string): Promise<void> {
  await db.query(
    `update customer_links set deleted_seen_at = null, delete_due_at = null
      where customer_id = $1 and deleted_seen_at is not null`,
    [customerId],
  );
}

/**
 * The same as {@link markDeletedSeen} for every deleted customer at once (the sweep's), including
 * those whose row left the source, looked for among the sweep's `candidates` (a table of customer
 * ids, `stageCandidates`: every deleted or departed customer with a link is one), so the links and
 * the source are not joined whole a second time. A customer deleted after the candidates were
 * staged is marked by its own sync or the next sweep: later, never early.
 */
export async function markAllDeletedSeen(
  db: Queryable,
  source: CustomerSource,
  graceMs: number,
  candidates: string,
): Promise<void> {
  const customers = await source.relation(db);
  await db.query(
    `update customer_links l
        set deleted_seen_at = now(),
            delete_due_at = now() + make_interval(secs => $1::double precision / 1000)
       from ${candidates} t
      where t.id = l.customer_id and l.deleted_seen_at is null
        and not exists (select 1 from ${customers} c
                         where c.id = l.customer_id and c.status <> 'deleted')`,
    [graceMs],
  );
  await db.query(
    `update customer_links l set deleted_seen_at = null, delete_due_at = null
       from ${customers} c
      where c.id = l.customer_id and c.status <> 'deleted' and l.deleted_seen_at is not null`,
  );
}
