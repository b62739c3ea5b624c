/**
 * The pool seen through drizzle: typed queries over src/db/schema.ts, for the reads that say more
 * as a query builder than as SQL. It is the same pool (and the same traced clients), wrapped once
 * by the composition root; set-based SQL stays plain SQL in src/sql/.
 */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';

import * as schema from './schema.js';

export type Database = NodePgDatabase<typeof schema>;

export function typedDatabase(pool: pg.Pool): Database {
  return drizzle({ client: pool, schema });
}
