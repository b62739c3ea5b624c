/** Makes a re-run start clean: the demo's tables emptied and its Redis prefix cleared. */
import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import type pg from 'pg';

import * as schema from '../src/db/schema.js';
import { connectRedis } from '../src/lib/redisClient.js';
import { deleteKeysUnder } from '../src/lib/redisKeys.js';

/** Every table of the schema, emptied in one statement. */
export async function resetTables(pool: pg.Pool): Promise<void> {
  const tables: string[] = [];
  for (const value of Object.values(schema) as unknown[]) {
    if (is(value, PgTable)) tables.push(`"${getTableName(value)}"`);
  }
  await pool.query(`truncate ${tables.join(', ')} restart identity cascade`);
}

/** Deletes every key under `prefix:`. */
export async function resetPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = connectRedis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  redis.on('error', () => {});
  await redis.connect();
  try {
    await deleteKeysUnder(redis, prefix);
  } finally {
    redis.disconnect();
  }
}
