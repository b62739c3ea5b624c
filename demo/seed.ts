/** Loads the demo's customers into Postgres and its orphan into the simulator. */
import type pg from 'pg';

import type { Simulator } from '../simulator/index.js';
import { DEMO_ORPHAN_NAME, demoCustomers } from './customers.js';

/** Inserts the sample customers (created a second apart, in list order) and the orphan. */
export async function seedDemo(pool: pg.Pool, sim: Simulator): Promise<{ customers: number }> {
  const rows = demoCustomers();
  const start = Date.UTC(2026, 0, 1);
  await pool.query(
    `insert into customers (id, name, status, created_at, updated_at)
     select id, name, status, created_at, created_at
       from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) as t(id, name, status, created_at)`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.name),
      rows.map((r) => r.status),
      rows.map((_, i) => new Date(start + i * 1000)),
    ],
  );
  sim.store.create(DEMO_ORPHAN_NAME);
  return { customers: rows.length };
}
