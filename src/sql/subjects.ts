/** Customer ids for the operator's commands: which exist, all of them in pages, a last sync. */
import type pg from 'pg';

import { ORPHAN_PREFIX } from '../core/subject.js';
import type { CustomerStatus } from '../core/types.js';
import type { CustomerSource } from './source.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * A subject's key in SQL, as `subjectKey` (core/subject.ts) builds it: the customer id, else the
 * orphan prefix and the workspace id. Column expressions only, never user input.
 */
export const subjectKeySql = (customerId: string, workspaceId: string): string =>
  `coalesce(${customerId}, '${ORPHAN_PREFIX}' || ${workspaceId}::text)`;

/** Of `ids`, those that are rows of the source, or linked customers that left it (deleted ones). */
export async function existingCustomerIds(
  db: Queryable,
  source: CustomerSource,
  ids: readonly string[],
): Promise<Set<string>> {
  const { rows } = await db.query<{ id: string }>(
    `select id from ${await source.relation(db)} c where id = any($1::text[])
     union
     select customer_id from customer_links where customer_id = any($1::text[])`,
    [ids],
  );
  return new Set(rows.map((r) => r.id));
}

/** How many customers (optionally of one status) there are. */
export async function countCustomers(
  db: Queryable,
  source: CustomerSource,
  status?: CustomerStatus,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from ${await source.relation(db)} c
      where $1::text is null or status = $1`,
    [status ?? null],
  );
  return rows[0]?.n ?? 0;
}

/** The next page of customer ids after `after`, in id order (keyset paging). */
export async function customerIdsAfter(
  db: Queryable,
  source: CustomerSource,
  after: string | null,
  limit: number,
  status?: CustomerStatus,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `select id from ${await source.relation(db)} c
      where ($1::text is null or id > $1) and ($2::text is null or status = $2)
      order by id limit $3`,
    [after, status ?? null, limit],
  );
  return rows.map((r) => r.id);
}

/** The last sync of a subject, if it ever ran. */
export interface LastSync {
  at: Date;
  outcome: string;
  kind: string | null;
  reason: string | null;
  attempts: number;
}

export async function lastSyncOf(db: Queryable, subject: string): Promise<LastSync | null> {
  const { rows } = await db.query(
    'select at, outcome, kind, reason, attempts from sync_state where subject = $1',
    [subject],
  );
  return (rows[0] as LastSync | undefined) ?? null;
}

/** Every subject whose last sync failed, in pages (for `retry-failed`). */
export async function failedSubjectsAfter(
  db: Queryable,
  after: string | null,
  limit: number,
): Promise<string[]> {
  const { rows } = await db.query<{ subject: string }>(
    `select subject from sync_state
      where outcome = 'failed' and ($1::text is null or subject > $1)
      order by subject limit $2`,
    [after, limit],
  );
  return rows.map((r) => r.subject);
}
