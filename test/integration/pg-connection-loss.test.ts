/**
 * A checked-out client that sits idle (a sweep's lock or cursor, a workspace lock held across an
 * API call) when Postgres ends its connection: pg emits that as an 'error' event on the client,
 * which kills the process unless someone listens. The pool's clients always have a listener.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { createPool } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let database: TestDatabase | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

describe('a pool client losing its connection while checked out', () => {
  it('fails its next query instead of crashing the process, and the pool goes on', async () => {
    database = await createTestDatabase();
    const pool = createPool(database.url, { max: 2 });
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
      const ended = new Promise((resolve) => client.once('end', resolve));
      await database.pool.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      await expect(client.query('select 1')).rejects.toThrow();
      client.release();
      const again = await pool.query<{ one: number }>('select 1 as one');
      expect(again.rows[0]?.one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
