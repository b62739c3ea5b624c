/**
 * The fleet as the console and `status` show it: customers by sync state (the overview), what
 * needs a person (the navigation's counts, on every page), finding a customer (the search box),
 * and the orphan report. Reads only; no API calls.
 */
import type { App } from '../app.js';
import { getCustomer } from '../sql/customers.js';
import {
  attentionCounts,
  type CustomerMatch,
  type FleetCounts,
  fleetCounts,
  searchCustomers,
} from '../sql/fleet.js';

import type { OrphanRow } from '../sql/typedReads.js';

export type { CustomerMatch, FleetCounts } from '../sql/fleet.js';
export type { OrphanRow } from '../sql/typedReads.js';

/** The orphans of the last complete listing, by name, up to `limit`. */
export async function listReportedOrphans(
  app: Pick<App, 'pool'>,
  limit?: number,
): Promise<OrphanRow[]> {
  // Loaded here, on first use: an idle daemon never holds drizzle (see typedReads.ts).
  const { listOrphans } = await import('../sql/typedReads.js');
  return listOrphans(app.pool, limit);
}

/** Customers by sync state, and orphan workspaces (see `FleetCounts`). */
export async function countFleet(app: Pick<App, 'pool' | 'source'>): Promise<FleetCounts> {
  return fleetCounts(app.pool, app.source);
}

/** Held changes and failing syncs: what the console's navigation points a person to. */
export async function countAttention(
  app: Pick<App, 'pool'>,
): Promise<{ held: number; failing: number }> {
  return attentionCounts(app.pool);
}

/** Customers whose id is `query`, or whose id starts with it, or whose name contains it. */
export async function findCustomers(
  app: Pick<App, 'pool' | 'source'>,
  query: string,
  limit?: number,
): Promise<CustomerMatch[]> {
  return searchCustomers(app.pool, app.source, query, limit);
}

/** Whether the customers source has a row of this id. */
export async function customerExists(
  app: Pick<App, 'pool' | 'source'>,
  customerId: string,
): Promise<boolean> {
  return (await getCustomer(app.pool, app.source, customerId)) !== null;
}
