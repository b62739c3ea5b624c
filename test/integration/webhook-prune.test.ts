/** Pruning the dedupe record: only event ids received before the cutoff go. */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { DAY } from '../../src/lib/duration.js';
import { pruneWebhookEvents, WEBHOOK_EVENT_RETENTION_MS } from '../../src/webhooks/ingest.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

it('deletes event ids older than the cutoff, in batches, and keeps the rest', async () => {
  const now = Date.parse('2026-11-28T12:00:00.000Z');
  // 12,000 old ids (more than one batch) and one just inside the 4 days.
  await database.pool.query(
    `insert into webhook_events (source, event_id, type, occurred_at, received_at, result)
     select 'billing', 'msg_' || i, 'customer.updated', $1, $1, 'applied' from generate_series(1, 12000) i`,
    [new Date(now - 5 * DAY)],
  );
  await database.pool.query(
    `insert into webhook_events (source, event_id, type, occurred_at, received_at, result)
     values ('stripe', 'evt_recent', 'customer.updated', $1, $1, 'applied')`,
    [new Date(now - 4 * DAY + 1000)],
  );
  expect(WEBHOOK_EVENT_RETENTION_MS).toBe(4 * DAY);
  // The composition root passes its Db (drizzle, with `$client`); a pool works as well.
  const deleted = await pruneWebhookEvents(
    database.pool,
    new Date(now - WEBHOOK_EVENT_RETENTION_MS),
  );
  expect(deleted).toBe(12000);
  const { rows } = await database.pool.query('select event_id from webhook_events');
  expect(rows).toEqual([{ event_id: 'evt_recent' }]);
  expect(await pruneWebhookEvents(database.pool, new Date(now - WEBHOOK_EVENT_RETENTION_MS))).toBe(
    0,
  );
});
