/** The database's clock: every window and due time is measured on it, whatever a daemon's says. */
import type pg from 'pg';

export async function databaseNow(db: Pick<pg.Pool, 'query'>): Promise<number> {
  const { rows } = await db.query<{ now: Date }>('select now() as now');
  return (rows[0]?.now ?? new Date()).getTime();
}
