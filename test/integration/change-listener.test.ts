/**
 * The change listener's memory is bounded: a burst of 50,000 NOTIFYs (a bulk UPDATE) is queued one
 * batch at a time, at most `maxPending` ids wait, and what did not fit asks for one sweep instead.
 * A burst within the bound is queued id for id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Trigger } from '../../src/core/types.js';
import { createLogger } from '../../src/lib/logger.js';
import { CHANNEL, listenForChanges } from '../../src/sync/notifications.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** A sync queue that records each enqueue and how many ran at once; each takes a few ms. */
function recordingQueue() {
  const batches: string[][] = [];
  let running = 0;
  let maxRunning = 0;
  return {
    batches,
    maxRunning: () => maxRunning,
    async enqueue(ids: readonly string[], _trigger: Trigger) {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      batches.push([...ids]);
      running -= 1;
    },
  };
}

async function burst(from: number, count: number): Promise<void> {
  // One transaction: every notification is delivered at once, at commit.
  await database.pool.query(
    `select pg_notify($1, 'c' || i) from generate_series($2::int, $3::int) i`,
    [CHANNEL, from, from + count - 1],
  );
}

describe('the change listener', () => {
  it('queues a burst in bounded batches, and past its bound asks for one sweep instead', async () => {
    const queue = recordingQueue();
    let sweeps = 0;
    const listener = listenForChanges({
      databaseUrl: database.url,
      syncQueue: queue,
      logger: createLogger({ level: 'silent' }),
      onOverflow: async () => void (sweeps += 1),
    });
    try {
      await listener.ready;
      // Within the bound: every id, exactly once, in batches of at most 1,000.
      await burst(1, 5000);
      await waitFor(() => queue.batches.flat().length >= 5000, { what: '5,000 ids queued' });
      expect(new Set(queue.batches.flat()).size).toBe(5000);
      expect(Math.max(...queue.batches.map((b) => b.length))).toBeLessThanOrEqual(1000);
      expect(sweeps).toBe(0);

      // 50,000 at once: at most 10,000 wait, the rest fall back to one sweep.
      queue.batches.length = 0;
      await burst(100_000, 50_000);
      await waitFor(() => sweeps > 0 && queue.batches.flat().length >= 10_000, {
        what: 'the bounded part queued and a sweep asked for',
      });
      await listener.close();
      const queued = queue.batches.flat();
      expect(queued.length).toBeGreaterThanOrEqual(10_000);
      expect(queued.length).toBeLessThan(50_000);
      expect(new Set(queued).size).toBe(queued.length);
      // One sweep per drain that found drops, not one per dropped id: a fast machine delivers the
      // burst in one read and asks once; a loaded one delivers it over several reads while the
      // batches are queued, and asks again (the daemon's sweep job id makes those one per minute).
      expect(sweeps).toBeGreaterThanOrEqual(1);
      expect(sweeps).toBeLessThanOrEqual(queue.batches.length);
      expect(Math.max(...queue.batches.map((b) => b.length))).toBeLessThanOrEqual(1000);
      expect(queue.maxRunning()).toBe(1);
    } finally {
      await listener.close();
    }
  });

  it('settles: a write committed before the call is queued when it returns, however long the gathering', async () => {
    const queue = recordingQueue();
    const listener = listenForChanges({
      databaseUrl: database.url,
      syncQueue: queue,
      logger: createLogger({ level: 'silent' }),
      flushEveryMs: 60_000, // without settling, nothing would be queued for a minute
    });
    try {
      await listener.ready;
      await database.pool.query(`select pg_notify($1, 'c-settled')`, [CHANNEL]);
      await listener.settled();
      expect(queue.batches.flat()).toEqual(['c-settled']);
      // Nothing pending: settling again queues nothing twice.
      await listener.settled();
      expect(queue.batches.flat()).toEqual(['c-settled']);
    } finally {
      await listener.close();
    }
  });
});

describe('the change listener after losing its connection', () => {
  it('asks for one sweep once it listens again: writes made while it was deaf were never heard', async () => {
    const queue = recordingQueue();
    const missed: string[] = [];
    const listener = listenForChanges({
      databaseUrl: database.url,
      syncQueue: queue,
      logger: createLogger({ level: 'silent' }),
      onOverflow: async () => void missed.push('overflow'),
      onMissed: async () => void missed.push('reconnected'),
    });
    try {
      await listener.ready;
      expect(missed).toEqual([]); // the first LISTEN missed nothing: the sweeps cover the start
      await database.pool.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where datname = $1 and application_name = 'customer-sync listen'`,
        [database.name],
      );
      await waitFor(() => !listener.listening, { what: 'the listener noticed the loss' });
      // Nobody hears this one: it is up to the sweep that the listener asks for.
      await database.pool.query(`select pg_notify($1, 'c-unheard')`, [CHANNEL]);
      await waitFor(() => listener.listening, { what: 'the listener listening again' });
      await waitFor(() => missed.length > 0, { what: 'a sweep asked for' });
      expect(missed).toEqual(['reconnected']);
    } finally {
      await listener.close();
    }
  });
});
