/** One transaction on a connection of its own, for a sweep's passes over the whole fleet. */
import type pg from 'pg';

/**
 * Runs `work` in a repeatable-read transaction (one snapshot for all it reads) on a connection of
 * its own, committed when `work` resolves and rolled back when it throws. Its hashes may be the
 * fleet's size: at the default 4 MB of `work_mem` a fleet of 100k spills each to disk in batches;
 * 32 MB keeps them in memory up to about 400k.
 */
export async function inSnapshot<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read');
    await client.query(`set local work_mem = '32MB'`);
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
