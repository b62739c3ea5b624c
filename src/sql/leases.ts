/**
 * Leases: named locks with an expiry, in Postgres. The sweep holds one, renewed while it runs
 * (`src/sync/sweepLease.ts`); the daily retention job takes one for a day and lets it lapse.
 *
 * Why not a session advisory lock: it lives as long as its session, and a session outlives a
 * daemon that vanished without closing it: a SIGSTOPped process's kernel still answers TCP
 * keep-alive probes, and a lost VM's connection lingers until the server's keep-alive gives up
 * (two hours by default). A lease needs nothing from the network: when its holder stops renewing,
 * for whatever reason, it lapses on Postgres's clock (the one clock every daemon shares). A holder
 * that comes back after losing it sees its renewal refused.
 */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** The lease that makes sweeps one at a time. */
export const SWEEP_LEASE = 'sweep';

/** Takes `name` for `ttlMs` unless another holder's lease is still in force; true when taken. */
export async function takeLease(
  db: Queryable,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  // On a conflict the WHERE is re-checked against the latest row under its lock, so of two
  // daemons that both saw an expired lease only one takes it.
  const { rowCount } = await db.query(
    `insert into leases (name, holder, expires_at)
     values ($1, $2, now() + $3 * interval '1 millisecond')
     on conflict (name) do update
       set holder = excluded.holder, expires_at = excluded.expires_at
     where leases.expires_at < now()`,
    [name, holder, ttlMs],
  );
  return rowCount === 1;
}

/** Extends the lease by `ttlMs` from now; false when it is no longer this holder's. */
export async function renewLease(
  db: Queryable,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update leases set expires_at = now() + $3 * interval '1 millisecond'
      where name = $1 and holder = $2`,
    [name, holder, ttlMs],
  );
  return rowCount === 1;
}

/** Gives the lease back, if it is still this holder's. */
export async function releaseLease(db: Queryable, name: string, holder: string): Promise<void> {
  await db.query('delete from leases where name = $1 and holder = $2', [name, holder]);
}
