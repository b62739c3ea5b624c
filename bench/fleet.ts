/**
 * A fleet already in step: N customers in Postgres, N linked workspaces in the simulator with the
 * same names and statuses. Customers are written with `customer_sync.quiet` on (migrations/0001)
 * so the NOTIFY trigger does not queue N syncs behind the benchmark's back.
 */
import type pg from 'pg';

import type { Simulator } from '../simulator/index.js';

/** Customer i: ids sort in i order; every tenth is inactive. */
export const customerId = (i: number): string => `cus_${String(i).padStart(7, '0')}`;
export const customerName = (i: number): string => `Customer ${i}`;
export const customerStatus = (i: number): 'active' | 'inactive' =>
  i % 10 === 9 ? 'inactive' : 'active';

const LINK_CHUNK = 50_000;

/**
 * Seeds N customers; with `workspaces` (the default) each also has its workspace in the simulator
 * and, with `links` (the default), its link, in step. Without workspaces the organization is
 * empty: a first sweep creates them all; without links a first sweep adopts them all.
 */
export async function seedFleet(
  pool: pg.Pool,
  sim: Simulator,
  n: number,
  { workspaces = true, links = true }: { workspaces?: boolean; links?: boolean } = {},
): Promise<void> {
  if (workspaces) sim.store.seed(n, customerName, customerStatus);
  const client = await pool.connect();
  try {
    await client.query(`set customer_sync.quiet = 'on'`);
    // The same three rules as above, in SQL: generated server-side, nothing shipped row by row.
    await client.query(
      `insert into customers (id, name, status, created_at)
       select 'cus_' || lpad(i::text, 7, '0'), 'Customer ' || i,
              case when i % 10 = 9 then 'inactive' else 'active' end,
              timestamptz '2026-01-01' + i * interval '1 second'
         from generate_series(0, $1::int - 1) i`,
      [n],
    );
    for (let start = 0; workspaces && links && start < n; start += LINK_CHUNK) {
      const ids: string[] = [];
      const workspaceIds: string[] = [];
      const names: string[] = [];
      for (let i = start; i < Math.min(n, start + LINK_CHUNK); i++) {
        const ws = sim.store.findByName(customerName(i));
        if (!ws) throw new Error(`seed: no workspace named ${customerName(i)}`);
        ids.push(customerId(i));
        workspaceIds.push(ws.id);
        names.push(ws.name);
      }
      await client.query(
        `insert into customer_links (customer_id, workspace_id, workspace_name)
         select * from unnest($1::text[], $2::uuid[], $3::text[])`,
        [ids, workspaceIds, names],
      );
    }
    // A fleet that has lived a while has statistics; a freshly loaded one must get them.
    await client.query('analyze customers, customer_links');
  } finally {
    client.release();
  }
}

/**
 * Drift: every `1/share`-th customer (evenly spread) renamed or status-flipped in the table,
 * quietly, so only the sweep finds it. Returns how many customers changed.
 */
export async function driftFleet(pool: pg.Pool, n: number, share: number): Promise<number> {
  const every = Math.round(1 / share);
  const client = await pool.connect();
  try {
    await client.query(`set customer_sync.quiet = 'on'`);
    const { rowCount } = await client.query(
      `update customers c
          set name = case when d.i % 2 = 0 then c.name || ' (renamed)' else c.name end,
              status = case when d.i % 2 = 1
                            then (case when c.status = 'active' then 'inactive' else 'active' end)
                            else c.status end,
              updated_at = now()
         from (select 'cus_' || lpad(i::text, 7, '0') as id, i / $2::int as i
                 from generate_series(0, $1::int - 1, $2::int) i) d
        where c.id = d.id`,
      [n, every],
    );
    return rowCount ?? 0;
  } finally {
    client.release();
  }
}
