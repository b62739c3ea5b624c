/**
 * Claims on sync subjects (migration 0013). BullMQ runs one job per customer at a time, but only
 * while the job's lock holds: a daemon stopped longer than `LOCK_DURATION` (SIGSTOP, a stalled
 * event loop) loses it, another daemon runs the customer's sync, and the first one wakes with a
 * stale decision. Each sync therefore takes the subject's next generation when it starts and
 * checks, right before each change, that no newer sync has started since; the newest decision
 * wins and a stale one stops (docs/design.md §3).
 */
import type pg from 'pg';

import { SupersededError } from '../lib/errors.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** A sync's claim on its subject. */
export interface Claim {
  readonly subject: string;
  readonly generation: number;
}

/**
 * Takes the subject's next generation: every sync started before this one is now stale. A
 * generation is at least the database's clock in microseconds, so one given after retention
 * pruned the row (RETENTION) is still newer than any given before.
 */
export async function claimSubject(db: Queryable, subject: string): Promise<Claim> {
  const { rows } = await db.query<{ generation: string }>(
    `with t as (select (extract(epoch from clock_timestamp()) * 1000000)::bigint as us)
     insert into sync_claims (subject, generation, at) select $1, t.us, now() from t
     on conflict (subject) do update
       set generation = greatest(sync_claims.generation + 1, excluded.generation), at = now()
     returning generation`,
    [subject],
  );
  return { subject, generation: Number(rows[0]?.generation) };
}

/**
 * Throws {@link SupersededError} when a newer sync of the subject has started. Inside a transaction
 * it holds the claim's row (`for share`) until the commit, so a newer sync's claim waits for the
 * transaction's writes and then sees them.
 */
export async function assertClaim(db: Queryable, claim: Claim): Promise<void> {
  const { rows } = await db.query<{ generation: string }>(
    'select generation from sync_claims where subject = $1 for share',
    [claim.subject],
  );
  const newest = rows[0] ? Number(rows[0].generation) : undefined;
  if (newest !== claim.generation) {
    throw new SupersededError(
      `a newer sync of ${claim.subject} started (generation ${newest ?? 'none'}, this one ${claim.generation}): its decision stands, this one's is stale`,
    );
  }
}
