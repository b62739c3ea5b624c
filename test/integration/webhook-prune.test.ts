/** Pruning the dedupe record: only event ids (and their body digests) received before the cutoff go. */
import { createHash } from 'node:crypto';

import { expect, it } from 'vitest';

import { DAY } from '../../src/lib/duration.js';
import { insertWebhookEvent } from '../../src/sql/webhookEvents.js';
import { pruneWebhookEvents, WEBHOOK_EVENT_RETENTION_MS } from '../../src/webhooks/ingest.js';
import { databaseSuite } from '../support/webhookSuite.js';

const { database } = databaseSuite();

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

it('keeps a body digest exactly as long as its event id: a pruned body is accepted afresh', async () => {
  await database.truncate();
  const now = Date.parse('2026-11-28T12:00:00.000Z');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const record = (id: string, body: string, at: number) =>
    insertWebhookEvent(
      database.pool,
      {
        source: 'lago',
        eventId: id,
        type: 'subscription.terminated',
        occurredAt: new Date(at),
        customerId: 'cust_1',
        change: null,
        bodyDigest: digest(body),
      },
      new Date(at),
      'ignored',
    );
  expect(await record('key-old', 'old body', now - 5 * DAY)).toBe(true);
  expect(await record('key-new', 'new body', now - DAY)).toBe(true);
  // Within retention, the same bytes under a new key are a repeat delivery.
  expect(await record('key-new-again', 'new body', now)).toBe(false);
  expect(await pruneWebhookEvents(database.pool, new Date(now - WEBHOOK_EVENT_RETENTION_MS))).toBe(
    1,
  );
  expect(await record('key-old-again', 'old body', now)).toBe(true);
  expect(await record('key-new-again', 'new body', now)).toBe(false);
});
