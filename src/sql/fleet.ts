/** The fleet at a glance, for the console: customers by sync state, and finding a customer. */
import type pg from 'pg';

import { DEFAULT_WORKSPACE_NAME } from '../core/types.js';
import type { CustomerSource } from './source.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Customers by state, as Postgres knows it (no API call):
 * - held: a destructive change of theirs waits for approval;
 * - failing: their last sync failed;
 * - pending: changed since their last sync, never synced though something is to do, or released
 *   from a hold and not yet synced;
 * - inStep: the rest (the last sync succeeded and the row has not changed since).
 * Orphans are workspaces, counted apart.
 */
export interface FleetCounts {
  customers: number;
  inStep: number;
  failing: number;
  held: number;
  pending: number;
  orphans: number;
}

export async function fleetCounts(db: Queryable, source: CustomerSource): Promise<FleetCounts> {
  const customers = await source.relation(db);
  const { rows } = await db.query<{ state: keyof FleetCounts; n: number }>(
    // The few held customers as a hash join, and the link read only for never-synced rows:
    // about twice as fast at 1M customers as a per-row `exists` and a full join of the links.
    `select state, count(*)::int as n from (
       select case
         when hc.customer_id is not null then 'held'
         when s.outcome = 'failed' then 'failing'
         when s.subject is null then
           (case when c.status = 'deleted'
                      and not exists (select 1 from customer_links l where l.customer_id = c.id)
                 then 'inStep' else 'pending' end)
         when s.outcome <> 'ok' or s.at < c.updated_at then 'pending'
         else 'inStep' end as state
         from ${customers} c
         left join sync_state s on s.subject = c.id
         left join (select distinct customer_id from holds where state = 'held') hc
           on hc.customer_id = c.id) t
     group by state
     union all
     select 'orphans', count(*)::int from orphans where name <> $1`,
    [DEFAULT_WORKSPACE_NAME],
  );
  const counts: FleetCounts = {
    customers: 0,
    inStep: 0,
    failing: 0,
    held: 0,
    pending: 0,
    orphans: 0,
  };
  for (const row of rows) counts[row.state] = row.n;
  counts.customers = counts.inStep + counts.failing + counts.held + counts.pending;
  return counts;
}

/** A customer found by the console's search box. */
export interface CustomerMatch {
  id: string;
  name: string;
  status: string;
  workspaceId: string | null;
}

/** Customers whose id is `query`, or whose id starts with it, or whose name contains it. */
export async function searchCustomers(
  db: Queryable,
  source: CustomerSource,
  query: string,
  limit = 50,
): Promise<CustomerMatch[]> {
  const like = query.replace(/[\\%_]/g, (c) => `\\${c}`);
  const { rows } = await db.query(
    `select c.id, c.name, c.status, l.workspace_id as "workspaceId"
       from ${await source.relation(db)} c left join customer_links l on l.customer_id = c.id
      where c.id = $1 or c.id like $2 || '%' or c.name ilike '%' || $2 || '%'
      order by c.id <> $1, c.name, c.id
      limit $3`,
    [query, like, limit],
  );
  return rows as CustomerMatch[];
}

/** What the console's navigation shows on every page: held changes and failing syncs. */
export async function attentionCounts(db: Queryable): Promise<{ held: number; failing: number }> {
  const { rows } = await db.query<{ held: number; failing: number }>(
    `select (select count(*)::int from holds where state = 'held') as held,
            (select count(*)::int from sync_state where outcome = 'failed') as failing`,
  );
  return rows[0] ?? { held: 0, failing: 0 };
}

/** The names of these customers, by id (for lists that carry only ids). */
export async function customerNames(
  db: Queryable,
  source: CustomerSource,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; name: string }>(
    `select id, name from ${await source.relation(db)} c where id = any($1::text[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.name]));
}
