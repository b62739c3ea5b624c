/**
 * The bench's own resources on the shared machine: a database per stack (`cs_bench_*`, migrated,
 * dropped at the end) and a Redis key prefix per stack (`cs-bench-*`, deleted at the end). Other
 * engineers run tests here at the same time: nothing outside these names is ever touched.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';
import pg from 'pg';

import { runMigrations } from '../src/db/migrate.js';
import { deleteKeysUnder } from '../src/lib/redisKeys.js';

/** The server the bench databases live on; `BENCH_DATABASE_URL` overrides. */
export const PG_BASE =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const randomTag = (): string => randomBytes(4).toString('hex');

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface BenchDb {
  readonly name: string;
  readonly url: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh migrated database `cs_bench_<label>_<tag>`. */
export async function createBenchDb(label: string): Promise<BenchDb> {
  const name = `cs_bench_${label}_${randomTag()}`;
  const url = withDatabase(PG_BASE, name);
  await runMigrations(url); // creates the database first
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    application_name: 'customer-sync bench',
  });
  // An idle connection ended by the server (the machine is shared) is replaced on the next query;
  // it must not take the whole run down.
  pool.on('error', () => {});
  let dropped = false;
  return {
    name,
    url,
    pool,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => {});
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

export async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(PG_BASE, 'postgres') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Deletes every key under `prefix:` (SCAN, bounded by the keyspace; never FLUSHALL). */
export async function deletePrefix(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}

/** A port free right now on loopback, for a child daemon's HTTP server (the embedded servers' own). */
export { sparePort as freePort } from '../src/embedded/processes.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it returns a value, or throws after `timeoutMs`. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs: number,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
