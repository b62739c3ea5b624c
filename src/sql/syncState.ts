/**
 * The last sync of each subject: `status` lists the failed ones (`typedReads.ts`), `retry-failed`
 * queues them.
 */
import type pg from 'pg';

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
