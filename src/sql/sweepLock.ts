/**
 * One sweep at a time, as a lease in Postgres rather than a session advisory lock.
 *
 * An advisory lock lives as long as its session, and a session outlives a daemon that vanished
 * without closing it: a SIGSTOPped process's kernel still answers TCP keep-alive probes, and a lost
 * VM's connection lingers until the server's keep-alive gives up (two hours by default). A lease
 * needs nothing from the network: its holder renews it while the sweep runs, and when the holder
 * stops renewing, for whatever reason, it lapses after LOCK_DURATION on Postgres's clock (the one
 * clock every daemon shares). A holder that comes back after losing it sees its renewal refused
 * and stops its sweep.
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

const SWEEP = 'sweep';

/** Takes the lease for `ttlMs` unless another holder's is still in force; true when taken. */
export async function takeSweepLock(
  db: Queryable,
  holder: string,
  sweepId: string,
  ttlMs: number,
): Promise<boolean> {
  // On a conflict the WHERE is re-checked against the latest row under its lock, so of two
  // daemons that both saw an expired lease only one takes it.
  const { rowCount } = await db.query(
    `insert into sweep_lock (name, holder, sweep_id, expires_at)
     values ($1, $2, $3, now() + $4 * interval '1 millisecond')
     on conflict (name) do update
       set holder = excluded.holder, sweep_id = excluded.sweep_id, expires_at = excluded.expires_at
     where sweep_lock.expires_at < now()`,
    [SWEEP, holder, sweepId, ttlMs],
  );
  return rowCount === 1;
}

/** Extends the lease by `ttlMs` from now; false when it is no longer this holder's. */
export async function renewSweepLock(
  db: Queryable,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update sweep_lock set expires_at = now() + $3 * interval '1 millisecond'
      where name = $1 and holder = $2`,
    [SWEEP, holder, ttlMs],
  );
  return rowCount === 1;
}

export async function releaseSweepLock(db: Queryable, holder: string): Promise<void> {
  await db.query('delete from sweep_lock where name = $1 and holder = $2', [SWEEP, holder]);
}

/**
 * Marks failed every sweep still `running` but `current`: called by the lease's new holder, when
 * no other sweep can be alive (a live one renews its lease), so those were left by dead daemons.
 */
export async function failAbandonedSweeps(
  db: Queryable,
  current: string,
  at: Date,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `update sweeps set outcome = 'failed', finished_at = $2,
            error = 'abandoned: its daemon stopped before finishing (the next sweep took the lock)'
      where outcome = 'running' and id <> $1
      returning id`,
    [current, at],
  );
  return rows.map((r) => r.id);
}
