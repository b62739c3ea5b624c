/**
 * `customer_sync_ingest` (migration 0005, first 0002) through `recordEvent`, against a real database: one
 * round trip that keeps the rules of src/webhooks/ingest.ts. Checked here at the table level:
 * a duplicate leaves no trace whatever it would have done, the NOTIFY trigger stays quiet for an
 * applied event only, `updated_at` is the given now, and the mark moves only when applied.
 */
import { readFileSync } from 'node:fs';

import pg from 'pg';
import { describe, expect, it } from 'vitest';

import { recordEvent } from '../../src/webhooks/ingest.js';
import type { CustomerChange, WebhookEvent } from '../../src/webhooks/types.js';
import { waitFor } from '../support/wait.js';
import { databaseSuite } from '../support/webhookSuite.js';

const { database } = databaseSuite();

const NOW = new Date('2026-11-28T12:05:00.000Z');
const at = (second: number) => new Date(Date.UTC(2026, 10, 28, 12, 0, second));
let sequence = 0;
const ev = (
  customerId: string,
  change: CustomerChange | null,
  occurredAt: Date,
  eventId = `msg_${++sequence}`,
): WebhookEvent => ({
  source: 'billing',
  eventId,
  type: 'customer.updated',
  occurredAt,
  customerId,
  change,
});

/** Everything the function may write, for "nothing changed" comparisons. */
const snapshot = async () => {
  const q = (sql: string) => database.pool.query(sql).then((r) => r.rows);
  return {
    customers: await q('select id, name, status, updated_at from customers order by id'),
    events: await q('select source, event_id, result from webhook_events order by event_id'),
    marks: await q('select * from customer_event_marks order by customer_id'),
  };
};

describe('customer_sync_ingest', () => {
  it('applies: writes the change with updated_at = now, records the event and moves the mark', async () => {
    const e = ev('cus_1', { name: 'Acme', status: 'inactive' }, at(1));
    expect(await recordEvent(database.pool, e, NOW)).toEqual({ outcome: 'applied' });
    const { customers, events, marks } = await snapshot();
    expect(customers).toEqual([{ id: 'cus_1', name: 'Acme', status: 'inactive', updated_at: NOW }]);
    expect(events).toEqual([{ source: 'billing', event_id: e.eventId, result: 'applied' }]);
    expect(marks).toEqual([
      {
        customer_id: 'cus_1',
        last_event_at: at(1),
        last_event_id: e.eventId,
        name_event_at: at(1),
        status_event_at: at(1),
      },
    ]);
  });

  it('a duplicate id writes nothing, whether it would have been applied, stale or ignored', async () => {
    const first = ev('cus_1', { name: 'Acme' }, at(5));
    await recordEvent(database.pool, first, NOW);
    // Its sync was queued (else the duplicate says so: see the next test).
    await database.pool.query('update webhook_events set queued_at = $1', [NOW]);
    const before = await snapshot();
    const later = new Date(NOW.getTime() + 60_000);
    for (const again of [
      ev('cus_1', { name: 'Renamed' }, at(9), first.eventId),
      ev('cus_1', { name: 'Older' }, at(1), first.eventId),
      ev('cus_2', { status: 'inactive' }, at(9), first.eventId),
      ev('cus_3', { name: 'New' }, at(9), first.eventId),
    ]) {
      expect(await recordEvent(database.pool, again, later)).toEqual({ outcome: 'duplicate' });
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a duplicate of an applied event whose sync was never queued says so, and only then', async () => {
    const applied = ev('cus_1', { name: 'Acme' }, at(5));
    await recordEvent(database.pool, applied, NOW);
    const again = { ...applied, occurredAt: at(6) };
    expect(await recordEvent(database.pool, again, NOW)).toEqual({
      outcome: 'duplicate',
      unqueued: true,
    });
    await database.pool.query('update webhook_events set queued_at = $1', [NOW]);
    expect(await recordEvent(database.pool, again, NOW)).toEqual({ outcome: 'duplicate' });
    const stale = ev('cus_1', { name: 'Old' }, at(1));
    await recordEvent(database.pool, stale, NOW);
    expect(await recordEvent(database.pool, stale, NOW)).toEqual({ outcome: 'duplicate' });
  });

  it('per field: a field is set only by an event not older than the last that set it', async () => {
    await recordEvent(database.pool, ev('cus_1', { name: 'A', status: 'active' }, at(1)), NOW);
    await recordEvent(database.pool, ev('cus_1', { status: 'inactive' }, at(9)), NOW);
    const rename = ev('cus_1', { name: 'B', status: 'active' }, at(5));
    expect(await recordEvent(database.pool, rename, NOW)).toEqual({ outcome: 'applied' });
    const { customers, marks } = await snapshot();
    expect(customers.map((c) => [c.name, c.status])).toEqual([['B', 'inactive']]);
    expect(marks).toEqual([
      expect.objectContaining({
        last_event_at: at(9),
        name_event_at: at(5),
        status_event_at: at(9),
      }),
    ]);
    // A row created by an event takes its status from it (active): an older status is stale.
    await recordEvent(database.pool, ev('cus_2', { name: 'New' }, at(5)), NOW);
    const older = ev('cus_2', { status: 'inactive' }, at(4));
    expect(await recordEvent(database.pool, older, NOW)).toEqual({ outcome: 'stale' });
  });

  it('strictly older is stale and recorded as such; equal timestamps: the later delivery wins', async () => {
    await recordEvent(database.pool, ev('cus_1', { name: 'B' }, at(5)), NOW);
    const old = ev('cus_1', { name: 'A' }, at(4));
    expect(await recordEvent(database.pool, old, NOW)).toEqual({ outcome: 'stale' });
    const tie = ev('cus_1', { name: 'C' }, at(5));
    expect(await recordEvent(database.pool, tie, NOW)).toEqual({ outcome: 'applied' });
    const { customers, events, marks } = await snapshot();
    expect(customers.map((c) => c.name)).toEqual(['C']);
    expect(events.find((r) => r.event_id === old.eventId)?.result).toBe('stale');
    expect(marks[0]?.last_event_id).toBe(tie.eventId);
  });

  it('an unknown customer without a name is ignored, and the mark is left alone', async () => {
    const e = ev('cus_1', { status: 'inactive' }, at(9));
    expect(await recordEvent(database.pool, e, NOW)).toEqual({
      outcome: 'ignored',
      reason: 'unknown customer and no name',
    });
    const { customers, events, marks } = await snapshot();
    expect([customers, marks]).toEqual([[], []]);
    expect(events.map((r) => r.result)).toEqual(['ignored']);
    // The create still on its way is not stale.
    const create = ev('cus_1', { name: 'Acme' }, at(1));
    expect(await recordEvent(database.pool, create, NOW)).toEqual({ outcome: 'applied' });
  });

  it('keeps the change notification quiet for its own writes only', async () => {
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(n.payload ?? ''));
    await listener.query('listen customer_sync_changed');
    try {
      await recordEvent(database.pool, ev('cus_1', { name: 'Acme' }, at(1)), NOW);
      await recordEvent(database.pool, ev('cus_1', { status: 'inactive' }, at(2)), NOW);
      // The setting was local to the call's transaction: a direct write on the same pool notifies.
      await database.pool.query(`update customers set name = 'Direct' where id = 'cus_1'`);
      // Notifications arrive in commit order: once a sentinel sent last is heard, all are.
      await database.pool.query(`notify customer_sync_changed, 'sentinel'`);
      await waitFor(() => heard.includes('sentinel'), { timeoutMs: 5_000, what: 'the sentinel' });
      expect(heard).toEqual(['cus_1', 'sentinel']);
    } finally {
      await listener.end();
    }
  });

  it('serialises concurrent events per customer: the newest stands, each id recorded once', async () => {
    const events = Array.from({ length: 20 }, (_, i) => ev('cus_1', { name: `N${i}` }, at(i)));
    const shuffled = events.map((e, i) => ({ e, k: (i * 7) % 20 })).sort((a, b) => a.k - b.k);
    await Promise.all(shuffled.map(({ e }) => recordEvent(database.pool, e, NOW)));
    const { customers, events: rows, marks } = await snapshot();
    expect(customers.map((c) => c.name)).toEqual(['N19']);
    expect(rows).toHaveLength(20);
    expect(marks[0]?.last_event_at).toEqual(at(19));
  });

  it('the migration can run again', async () => {
    const file = new URL('../../migrations/0005_webhook_fields_and_queued.sql', import.meta.url);
    await database.pool.query(readFileSync(file, 'utf8'));
    await database.pool.query(readFileSync(file, 'utf8'));
    const e = ev('cus_1', { name: 'Acme' }, at(1));
    expect(await recordEvent(database.pool, e, NOW)).toEqual({ outcome: 'applied' });
  });
});
