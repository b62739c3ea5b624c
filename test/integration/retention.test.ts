/**
 * Nothing grows without bound: audit rows, finished sweeps with their changes, and sync state
 * older than RETENTION are pruned in batches by a job one daemon a day runs; a running sweep and a
 * sweep with changes held for approval are kept whatever their age.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger } from '../../src/lib/logger.js';
import { DAY } from '../../src/lib/duration.js';
import { ManualClock } from '../../src/lib/clock.js';
import { runRetention } from '../../src/sync/retention.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const NOW = Date.UTC(2026, 10, 1);
const OLD = new Date(NOW - 91 * DAY);
const RECENT = new Date(NOW - 89 * DAY);

async function count(table: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: number }>(
    `select count(*)::int as n from ${table}`,
  );
  return rows[0]?.n ?? 0;
}

async function seed(): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => database.pool.query(sql, params);
  // 2,500 old audit rows and 10 recent ones.
  await q(
    `insert into audit (at, trigger, action, outcome)
     select $1, 'sweep', 'create', 'ok' from generate_series(1, 2500)`,
    [OLD],
  );
  await q(
    `insert into audit (at, trigger, action, outcome)
     select $1, 'sweep', 'create', 'ok' from generate_series(1, 10)`,
    [RECENT],
  );
  const sweeps: [string, Date, string][] = [
    ['old-ok', OLD, 'ok'],
    ['old-failed', OLD, 'failed'],
    ['old-running', OLD, 'running'],
    ['old-held', OLD, 'held'],
    ['recent', RECENT, 'ok'],
  ];
  for (const [id, at, outcome] of sweeps) {
    await q(
      `insert into sweeps (id, trigger, started_at, outcome) values ($1, 'schedule', $2, $3)`,
      [id, at, outcome],
    );
    await q(
      `insert into sweep_changes (sweep_id, customer_id, action)
       select $1, 'c' || i, 'create' from generate_series(1, 700) i`,
      [id],
    );
  }
  await q(
    `insert into holds (sweep_id, customer_id, action, created_at) values ('old-held', 'c1', 'delete', $1)`,
    [OLD],
  );
  await q(
    `insert into sync_state (subject, at, outcome)
     select 'old' || i, $1::timestamptz, 'ok' from generate_series(1, 300) i
     union all select 'recent' || i, $2::timestamptz, 'failed' from generate_series(1, 5) i`,
    [OLD, RECENT],
  );
  await q(
    `insert into sync_claims (subject, generation, at)
     select 'old' || i, i, $1::timestamptz from generate_series(1, 250) i
     union all select 'recent' || i, i, $2::timestamptz from generate_series(1, 3) i`,
    [OLD, RECENT],
  );
}

describe('retention', () => {
  it('prunes what is older than RETENTION in batches, once a day across daemons', async () => {
    await seed();
    const deps = {
      pool: database.pool,
      clock: new ManualClock(NOW),
      logger: createLogger({ level: 'silent' }),
      retentionMs: 90 * DAY,
      batch: 200,
    };
    const pruned = await runRetention(deps);
    expect(pruned).toEqual({
      audit: 2500,
      sweeps: 2,
      sweepChanges: 1400,
      syncState: 300,
      syncClaims: 250,
    });
    expect(await count('audit')).toBe(10);
    const { rows } = await database.pool.query<{ id: string }>('select id from sweeps order by id');
    expect(rows.map((r) => r.id)).toEqual(['old-held', 'old-running', 'recent']);
    expect(await count('sweep_changes')).toBe(3 * 700);
    expect(await count('sync_state')).toBe(5);
    expect(await count('sync_claims')).toBe(3);

    // Another daemon the same day: nothing to do, it does not even look.
    await database.pool.query(
      `insert into audit (at, trigger, action, outcome) values ($1, 'sweep', 'create', 'ok')`,
      [OLD],
    );
    expect(await runRetention(deps)).toBeUndefined();
    expect(await count('audit')).toBe(11);
  });
});
