/**
 * Retention: what is older than RETENTION goes, in batches, so no statement holds many row locks
 * or writes a huge WAL burst at once. Kept whatever their age: a sweep still running, and a
 * sweep's records while it has changes held for approval (`approve <sweep-id>` reads them).
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** Rows removed, per table. */
export interface Pruned {
  audit: number;
  sweeps: number;
  sweepChanges: number;
  syncState: number;
  syncClaims: number;
}

/**
 * Deletes, `batch` rows at a time, audit rows, sweeps (with their changes), sync state and sync
 * claims older than `cutoff`.
 */
export async function pruneOlderThan(db: Queryable, cutoff: Date, batch = 5000): Promise<Pruned> {
  const pruned: Pruned = { audit: 0, sweeps: 0, sweepChanges: 0, syncState: 0, syncClaims: 0 };
  pruned.audit = await inBatches(
    db,
    `delete from audit where id in (select id from audit where at < $1 limit $2)`,
    [cutoff, batch],
  );
  pruned.syncState = await inBatches(
    db,
    `delete from sync_state where subject in (select subject from sync_state where at < $1 limit $2)`,
    [cutoff, batch],
  );
  pruned.syncClaims = await inBatches(
    db,
    `delete from sync_claims where subject in (select subject from sync_claims where at < $1 limit $2)`,
    [cutoff, batch],
  );
  for (;;) {
    const { rows } = await db.query<{ id: string }>(
      `select s.id from sweeps s
        where s.started_at < $1 and s.outcome <> 'running'
          and not exists (select 1 from holds h where h.sweep_id = s.id and h.state in ('held', 'approved'))
        order by s.started_at limit $2`,
      [cutoff, Math.max(1, Math.floor(batch / 100))],
    );
    if (rows.length === 0) break;
    const ids = rows.map((r) => r.id);
    pruned.sweepChanges += await inBatches(
      db,
      `delete from sweep_changes where id in
         (select id from sweep_changes where sweep_id = any($1::text[]) limit $2)`,
      [ids, batch],
    );
    const { rowCount } = await db.query('delete from sweeps where id = any($1::text[])', [ids]);
    pruned.sweeps += rowCount ?? 0;
  }
  return pruned;
}

/** Runs a `delete … limit $n` until it deletes fewer than a batch; returns the total. */
async function inBatches(db: Queryable, sql: string, params: unknown[]): Promise<number> {
  const batch = params[params.length - 1] as number;
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(sql, params);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) return total;
  }
}
