/** Transactions on a connection of their own: committed when the work resolves, else rolled back. */
import type pg from 'pg';

/**
 * Runs `work` in a transaction begun by `begin` on a connection of its own, committed when `work`
 * resolves and rolled back when it throws; the connection goes back to the pool either way.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'begin',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * {@link inTransaction} at repeatable read (one snapshot for all `work` reads), for a sweep's
 * passes over the whole fleet. Their hashes may be the fleet's size: at the default 4 MB of
 * `work_mem` a fleet of 100k spills each to disk in batches; 32 MB keeps them in memory up to
 * about 400k.
 */
export function inSnapshot<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return inTransaction(
    pool,
    async (client) => {
      await client.query(`set local work_mem = '32MB'`);
      return work(client);
    },
    'begin isolation level repeatable read',
  );
}
