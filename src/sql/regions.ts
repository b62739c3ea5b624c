/**
 * Customers whose workspace lives in another region than their row now wants: reported (status,
 * the metric), never acted on. The row's region is read by `wantedRegionSql` (src/core/region.ts),
 * so the whole fleet is compared in one query. Only links whose region we minted in are compared.
 */
import type pg from 'pg';

import { type RegionMismatch, wantedRegionSql } from '../core/region.js';
import type { CustomerSource } from './source.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** The comparison, as rows `customer_id, workspace_id, wanted, created_in` (DEFAULT_REGION: $1). */
async function mismatchesSql(db: Queryable, source: CustomerSource): Promise<string> {
  return `select customer_id, workspace_id, wanted, created_in from (
            select l.customer_id, l.workspace_id::text as workspace_id,
                   l.region_id::text as created_in, ${wantedRegionSql(1)} as wanted
              from customer_links l
              join ${await source.relation(db)} c on c.id = l.customer_id
             where l.region_id is not null and c.status <> 'deleted'
               and l.workspace_status is distinct from 'missing') t
           where wanted is not null and wanted <> created_in`;
}

/** Up to `limit` mismatches, by customer id. */
export async function regionMismatches(
  db: Queryable,
  source: CustomerSource,
  defaultRegion: string,
  limit = 1000,
): Promise<RegionMismatch[]> {
  const { rows } = await db.query<{
    customer_id: string;
    workspace_id: string;
    wanted: string;
    created_in: string;
  }>(`${await mismatchesSql(db, source)} order by customer_id collate "C" limit $2`, [
    defaultRegion,
    limit,
  ]);
  return rows.map((r) => ({
    customerId: r.customer_id,
    workspaceId: r.workspace_id,
    wanted: r.wanted,
    createdIn: r.created_in,
  }));
}

/** How many there are (the metric). */
export async function countRegionMismatches(
  db: Queryable,
  source: CustomerSource,
  defaultRegion: string,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from (${await mismatchesSql(db, source)}) m`,
    [defaultRegion],
  );
  return rows[0]?.n ?? 0;
}
