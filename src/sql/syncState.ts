/** The last sync of each subject: `status` lists the failed ones, `retry-failed` queues them. */
import { desc, eq } from 'drizzle-orm';
import type pg from 'pg';

import type { Database } from '../db/database.js';
import { syncState } from '../db/schema.js';

type Queryable = Pick<pg.Pool, 'query'>;

export type SyncOutcome = 'ok' | 'held' | 'failed';

export async function recordSync(
  db: Queryable,
  subject: string,
  at: Date,
  outcome: SyncOutcome,
  detail: { kind?: string; reason?: string; attempts?: number } = {},
): Promise<void> {
  await db.query(
    `insert into sync_state (subject, at, outcome, kind, reason, attempts)
     values ($1, $2, $3, $4, $5, $6)
     on conflict (subject) do update
       set at = excluded.at, outcome = excluded.outcome, kind = excluded.kind,
           reason = excluded.reason, attempts = excluded.attempts`,
    [subject, at, outcome, detail.kind ?? null, detail.reason ?? null, detail.attempts ?? 1],
  );
}

export interface FailedSync {
  customerId: string;
  reason: string;
  kind: string;
  at: Date;
  attempts: number;
}

export async function failedSyncs(db: Database, limit = 1000): Promise<FailedSync[]> {
  const rows = await db
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
