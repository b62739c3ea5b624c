/** Reading the desired state: a customer, its link, and who owns a workspace name. */
import type pg from 'pg';

import { nameSql } from '../core/names.js';
import type { Customer, Link } from '../core/types.js';
import type { CustomerSource } from './source.js';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

interface CustomerRow {
  id: string;
  /** Null when a user's source has none (its view's column is nullable). */
  name: string | null;
  status: Customer['status'];
  /** Null when the source has no `created_at`. */
  created_at: Date | null;
  /** The row's region as written; absent when the query did not read it. */
  region?: string | null;
}

export async function getCustomer(
  db: Queryable,
  source: CustomerSource,
  id: string,
): Promise<Customer | null> {
  const { rows } = await db.query<CustomerRow>(
    `select id, name, status, created_at, region from ${await source.relation(db)} c where id = $1`,
    [id],
  );
  const row = rows[0];
  return row ? toCustomer(row) : null;
}

export const toCustomer = (row: CustomerRow): Customer => ({
  id: row.id,
  // No name reads as the empty name, which the planner refuses to make a workspace of.
  name: row.name ?? '',
  status: row.status,
  createdAt: row.created_at?.getTime() ?? null,
  ...(row.region !== undefined ? { region: row.region } : {}),
});

interface LinkRow {
  customer_id: string;
  workspace_id: string;
  workspace_name: string;
  workspace_status?: string | null;
  deleted_seen_at: Date | null;
  delete_due_at: Date | null;
  /** Absent when the query did not read it. */
  region_id?: string | null;
}

/** A customer with its link, and whether holds are open for it: what a sync reads first. */
export interface SubjectRow {
  readonly customer: Customer;
  readonly link: Link | null;
  /** A held or approved change waits for this customer (a sync then voids what it no longer needs). */
  readonly openHolds: boolean;
  /** The name of a mint for this customer whose workspace id never came back (pending_mints). */
  readonly pendingMint: string | null;
  /** The database's time (ms): every due time and window is measured on this one clock. */
  readonly now: number;
}

/**
 * One round trip for what a sync reads before it looks at the workspace. A linked customer no
 * longer in the source (its row deleted, or filtered out of a view) reads as `deleted`, named as
 * its workspace: it goes through the grace period and the mass-change gate like any deleted one.
 * A customer in the source whose name is NULL keeps it (it is not named as its workspace): the
 * planner refuses it, visibly.
 */
export async function readSubject(
  db: Queryable,
  source: CustomerSource,
  customerId: string,
): Promise<SubjectRow | null> {
  const { rows } = await db.query<
    CustomerRow & { [K in keyof LinkRow]: LinkRow[K] | null } & {
      open_holds: boolean;
      pending_mint: string | null;
      now: Date;
    }
  >(
    `select k.id, case when c.id is null then l.workspace_name else c.name end as name,
            coalesce(c.status, 'deleted') as status, c.created_at, now() as now,
            l.customer_id, l.workspace_id, l.workspace_name, l.workspace_status,
            l.deleted_seen_at, l.delete_due_at, c.region, l.region_id::text as region_id,
            exists (select 1 from holds h
                     where h.customer_id = k.id and h.state in ('held', 'approved')) as open_holds,
            (select m.workspace_name from pending_mints m where m.customer_id = k.id) as pending_mint
       from (select $1::text as id) k
       left join ${await source.relation(db)} c on c.id = k.id
       left join customer_links l on l.customer_id = k.id
      where c.id is not null or l.customer_id is not null`,
    [customerId],
  );
  const row = rows[0];
  if (!row) return null;
  const { customer_id, workspace_id, workspace_name } = row;
  const link =
    customer_id !== null && workspace_id !== null && workspace_name !== null
      ? toLink({ ...row, customer_id, workspace_id, workspace_name })
      : null;
  return {
    customer: toCustomer(row),
    link,
    openHolds: row.open_holds,
    pendingMint: row.pending_mint,
    now: row.now.getTime(),
  };
}

export const toLink = (row: LinkRow): Link => ({
  customerId: row.customer_id,
  workspaceId: row.workspace_id,
  workspaceName: row.workspace_name,
  workspaceStatus:
    row.workspace_status === 'active' ||
    row.workspace_status === 'inactive' ||
    row.workspace_status === 'missing'
      ? row.workspace_status
      : null,
  deletedSeenAt: row.deleted_seen_at?.getTime() ?? null,
  deleteDueAt: row.delete_due_at?.getTime() ?? null,
  ...(row.region_id !== undefined ? { regionId: row.region_id } : {}),
});

/** The customer linked to a workspace, if any. */
export async function linkedCustomerOf(db: Queryable, workspaceId: string): Promise<string | null> {
  const { rows } = await db.query<{ customer_id: string }>(
    'select customer_id from customer_links where workspace_id = $1',
    [workspaceId],
  );
  return rows[0]?.customer_id ?? null;
}

/**
 * The first claimant of a workspace name: the earliest (created_at, id) customer not deleted whose
 * name under the template is `name`. With the default template this is an index lookup.
 */
export async function firstClaimantOf(
  db: Queryable,
  source: CustomerSource,
  template: string,
  name: string,
): Promise<string | null> {
  const expr = nameSql(template, 'c', 2);
  const { rows } = await db.query<{ id: string }>(
    `select c.id from ${await source.relation(db)} c
      where c.status <> 'deleted' and ${expr.sql} = $1
      order by c.created_at, c.id collate "C" limit 1`,
    [name, ...expr.params],
  );
  return rows[0]?.id ?? null;
}

/** Each customer's current status; a customer whose row left the source reads as `deleted`. */
export async function currentStatuses(
  db: Queryable,
  source: CustomerSource,
  ids: readonly string[],
): Promise<Map<string, Customer['status']>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; status: Customer['status'] }>(
    `select k.id, coalesce(c.status, 'deleted') as status
       from unnest($1::text[]) as k(id) left join ${await source.relation(db)} c on c.id = k.id`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Of these workspaces, those linked to a customer now. */
export async function linkedAmong(
  db: Queryable,
  workspaceIds: readonly string[],
): Promise<Set<string>> {
  if (workspaceIds.length === 0) return new Set();
  const { rows } = await db.query<{ workspace_id: string }>(
    'select workspace_id from customer_links where workspace_id = any($1::uuid[])',
    [workspaceIds],
  );
  return new Set(rows.map((r) => r.workspace_id));
}
