/**
 * What the metrics read from Postgres at scrape time, fleet-wide: the latest sweep of each
 * outcome, the changes held for approval, and the webhook events whose sync is not queued. One
 * round trip over small tables and partial indexes; ages on the database's clock.
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

export interface DatabaseGaugeValues {
  /** Epoch seconds of the latest finished sweep, by outcome. */
  readonly lastSweepAt: Record<string, number>;
  readonly held: number;
  readonly oldestHoldAgeSeconds: number;
  readonly webhooksUnqueued: number;
  readonly oldestUnqueuedWebhookAgeSeconds: number;
}

/**
 * `unqueuedAfterMs`: an applied event younger than this is still being queued by its own
 * delivery and is not counted (the daemon's requeue pass leaves it alone as well).
 */
export async function readDatabaseGauges(
  db: Queryable,
  unqueuedAfterMs: number,
): Promise<DatabaseGaugeValues> {
  const { rows } = await db.query<{
    sweeps: Record<string, number> | null;
    held: number;
    hold_age: number;
    unqueued: number;
    unqueued_age: number;
  }>(
    `select
       (select json_object_agg(outcome, at) from
          (select outcome, extract(epoch from max(finished_at))::float8 as at from sweeps
            where finished_at is not null group by outcome) s) as sweeps,
       (select count(*)::int from holds where state = 'held') as held,
       (select coalesce(extract(epoch from now() - min(created_at)), 0)::float8
          from holds where state = 'held') as hold_age,
       (select count(*)::int from webhook_events
         where result = 'applied' and queued_at is null
           and received_at < now() - $1 * interval '1 millisecond') as unqueued,
       (select coalesce(extract(epoch from now() - min(received_at)), 0)::float8
          from webhook_events
         where result = 'applied' and queued_at is null
           and received_at < now() - $1 * interval '1 millisecond') as unqueued_age`,
    [unqueuedAfterMs],
  );
  const row = rows[0];
  return {
    lastSweepAt: row?.sweeps ?? {},
    held: row?.held ?? 0,
    oldestHoldAgeSeconds: Math.max(0, row?.hold_age ?? 0),
    webhooksUnqueued: row?.unqueued ?? 0,
    oldestUnqueuedWebhookAgeSeconds: Math.max(0, row?.unqueued_age ?? 0),
  };
}
