/**
 * The reads written with drizzle's typed builder over src/db/schema.ts (the rest of src/sql/ is
 * set-based SQL). Loaded on first use, by `status`, the console and `retry-failed`, never at a
 * daemon's start: drizzle and the schema add several MiB to an idle daemon that serves no
 * operator.
 */
import { asc, desc, eq, ne, sql } from 'drizzle-orm';
import type pg from 'pg';

import { DEFAULT_WORKSPACE_NAME } from '../core/types.js';
import { type Database, typedDatabase } from '../db/database.js';
import { orphans, syncState } from '../db/schema.js';

/** The pool seen through drizzle, made once per pool. */
const databases = new WeakMap<pg.Pool, Database>();
function typed(pool: pg.Pool): Database {
  let db = databases.get(pool);
  if (!db) {
    db = typedDatabase(pool);
    databases.set(pool, db);
  }
  return db;
}

/** A subject whose last sync failed. */
export interface FailedSync {
  customerId: string;
  reason: string;
  kind: string;
  at: Date;
  attempts: number;
}

/** The subjects whose last sync failed, latest first. */
export async function failedSyncs(pool: pg.Pool, limit = 1000): Promise<FailedSync[]> {
  const rows = await typed(pool)
    .select()
    .from(syncState)
    .where(eq(syncState.outcome, 'failed'))
    .orderBy(desc(syncState.at))
    .limit(limit);
  return rows.map((r) => ({
    customerId: r.subject,
    reason: r.reason ?? '',
    kind: r.kind ?? '',
    at: r.at,
    attempts: r.attempts,
  }));
}

/** One reported orphan. */
export interface OrphanRow {
  workspaceId: string;
  name: string;
  status: string;
  sweepId: string;
  seenAt: Date;
}

/** The orphans, by name; the organization's `default` workspace is never one. */
export async function listOrphans(pool: pg.Pool, limit = 1000): Promise<OrphanRow[]> {
  return typed(pool)
    .select()
    .from(orphans)
    .where(ne(sql`lower(${orphans.name})`, DEFAULT_WORKSPACE_NAME))
    .orderBy(asc(orphans.name), asc(orphans.workspaceId))
    .limit(limit);
}
