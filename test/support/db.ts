/** A database per test file, cloned from the migrated template in milliseconds. */
import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { inject } from 'vitest';

import { createPool } from '../../src/db/pool.js';
import { withDatabase } from './global-setup.js';

export interface TestDatabase extends AsyncDisposable {
  readonly url: string;
  readonly name: string;
  readonly pool: pg.Pool;
  /** Removes every row from the project's tables (between tests of one file). */
  truncate(): Promise<void>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const base = inject('databaseUrl');
  const template = inject('templateDatabase');
  const name = `cs_t_${randomBytes(5).toString('hex')}`;
  await adminQuery(base, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  const url = withDatabase(base, name);
  const pool = createPool(url, { max: 10, applicationName: 'customer-sync test' });
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await pool.end();
    await adminQuery(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  };
  return {
    url,
    name,
    pool,
    truncate: async () => {
      await pool.query(
        `TRUNCATE customers, customer_links, sweeps, sweep_changes, orphans, holds,
                  audit, sync_state, webhook_events, customer_event_marks, vendor_customers
                  RESTART IDENTITY CASCADE`,
      );
    },
    drop,
    [Symbol.asyncDispose]: drop,
  };
}

async function adminQuery(base: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  try {
    // Clones of one template can collide when started in the same instant; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(sql);
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== '55006' || attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
  } finally {
    await admin.end();
  }
}
