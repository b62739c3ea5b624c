/**
 * Webhook ordering per field (docs/contract.md, HTTP; issue 9 point 9), over real HTTP and a real
 * database: an event changes `name` only when it is newer than the last event that set the name,
 * and likewise `status`, so a delayed rename is not dropped behind a later status event. And a
 * body time more than the signature tolerance ahead of the signed time is refused (400) and
 * changes nothing, so it cannot make every later event of its customer stale.
 */
import { describe, expect, it } from 'vitest';

import { fixture } from '../support/webhookFixtures.js';
import {
  newBillingSecret,
  signOrb,
  signPaddle,
  signStandardWebhooks,
  signStripe,
} from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const BILLING_SECRET = newBillingSecret();
const STRIPE_SECRET = 'whsec_stripe_ordering_5e4d3c2b1a09';

const { database, server } = webhookSuite({
  now: NOW,
  secrets: {
    billing: [BILLING_SECRET],
    stripe: STRIPE_SECRET,
    paddle: 'pdl_ordering_secret',
    orb: 'orb_ordering_secret',
  },
});

const second = (s: number) => new Date(Date.UTC(2026, 10, 28, 12, 0, s)).toISOString();

const billing = (type: string, data: Record<string, unknown>, at: string, signedAt = T) => {
  const raw = JSON.stringify({ type, timestamp: at, data });
  return server.post(
    '/webhooks/billing',
    raw,
    signStandardWebhooks(BILLING_SECRET, raw, { timestamp: signedAt }),
  );
};

const stripe = (body: Record<string, unknown>, t = T) => {
  const raw = JSON.stringify(body);
  return server.post('/webhooks/stripe', raw, signStripe(STRIPE_SECRET, raw, t));
};

const customers = async () =>
  (await database.pool.query('select id, name, status from customers order by id')).rows;
const snapshot = async () => {
  const q = (sql: string) => database.pool.query(sql).then((r) => r.rows);
  return {
    customers: await q('select * from customers order by id'),
    events: await q('select * from webhook_events order by event_id'),
    marks: await q('select * from customer_event_marks order by customer_id'),
  };
};

describe('ordering per field', () => {
  it('a delayed rename is applied behind a later status event', async () => {
    await billing('customer.created', { id: 'cus_1', name: 'Acme' }, second(1));
    expect((await billing('customer.deactivated', { id: 'cus_1' }, second(5))).json).toEqual({
      status: 'applied',
    });
    // The rename happened at 12:00:03, before the deactivation, but arrives after it.
    const late = await billing('customer.updated', { id: 'cus_1', name: 'Acme Corp' }, second(3));
    expect(late.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'Acme Corp', status: 'inactive' }]);
    expect(server.queue.ids).toEqual(['cus_1', 'cus_1', 'cus_1']);
  });

  it('an older event applies only its fields that are newer than theirs', async () => {
    await billing('customer.created', { id: 'cus_1', name: 'Acme' }, second(1));
    await billing('customer.updated', { id: 'cus_1', status: 'inactive' }, second(6));
    // Both fields at 12:00:04: the name is newer than the name's last event, the status is not.
    const both = await billing(
      'customer.updated',
      { id: 'cus_1', name: 'Acme Two', status: 'active' },
      second(4),
    );
    expect(both.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'Acme Two', status: 'inactive' }]);
    // Now a status event older than the last status change is stale, whatever the name did.
    const old = await billing('customer.reactivated', { id: 'cus_1' }, second(5));
    expect(old.json).toEqual({ status: 'stale' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'Acme Two', status: 'inactive' }]);
  });

  it('each field keeps the tie rule: on equal timestamps the later delivery wins', async () => {
    await billing('customer.created', { id: 'cus_1', name: 'A' }, second(2));
    await billing('customer.deactivated', { id: 'cus_1' }, second(2));
    await billing('customer.updated', { id: 'cus_1', name: 'B' }, second(2));
    await billing('customer.reactivated', { id: 'cus_1' }, second(2));
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'B', status: 'active' }]);
    const stale = await billing('customer.updated', { id: 'cus_1', name: 'C' }, second(1));
    expect(stale.json).toEqual({ status: 'stale' });
  });

  it('Stripe: a delayed customer.updated is applied behind a later subscription pause', async () => {
    const created = fixture('stripe/customer.created');
    const id = created.data.object.id as string;
    await stripe({ ...created, id: 'evt_c', created: T - 60 });
    const paused = fixture('stripe/customer.subscription.paused');
    await stripe({ ...paused, id: 'evt_p', created: T - 10 });
    const updated = fixture('stripe/customer.updated');
    updated.data.object.name = 'Renamed Late';
    expect((await stripe({ ...updated, id: 'evt_u', created: T - 30 })).json).toEqual({
      status: 'applied',
    });
    expect(await customers()).toEqual([{ id, name: 'Renamed Late', status: 'inactive' }]);
  });
});

describe('a body time ahead of the signed time', () => {
  it('billing: more than 5 minutes ahead of webhook-timestamp answers 400 and writes nothing', async () => {
    await billing('customer.created', { id: 'cus_1', name: 'Acme' }, second(1));
    const before = await snapshot();
    const ahead = new Date(NOW + 5 * 60_000 + 1000).toISOString();
    const answer = await billing('customer.updated', { id: 'cus_1', name: 'Future' }, ahead);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(/timestamp/) });
    expect(await snapshot()).toEqual(before);
    // It did not poison the customer: a later, honest event still applies.
    const next = await billing('customer.updated', { id: 'cus_1', name: 'Now' }, second(200));
    expect(next.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: 'cus_1', name: 'Now', status: 'active' }]);
  });

  it('billing: up to 5 minutes ahead is accepted (clocks differ)', async () => {
    const ahead = new Date(NOW + 5 * 60_000).toISOString();
    const answer = await billing('customer.created', { id: 'cus_1', name: 'Acme' }, ahead);
    expect(answer.json).toEqual({ status: 'applied' });
  });

  it('Stripe: `created` more than 5 minutes after the signature t= answers 400 and writes nothing', async () => {
    const created = fixture('stripe/customer.created');
    const before = await snapshot();
    const answer = await stripe({ ...created, id: 'evt_future', created: T + 301 });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(/timestamp|created/) });
    expect(await snapshot()).toEqual(before);
    expect((await stripe({ ...created, id: 'evt_ok', created: T + 300 })).json).toEqual({
      status: 'applied',
    });
  });

  it('Paddle and Orb: an event time more than 5 minutes after the signed time answers 400', async () => {
    const ahead = new Date(NOW + 301_000).toISOString();
    const paddle = JSON.stringify({ ...fixture('paddle/customer.created'), occurred_at: ahead });
    const p = await server.post(
      '/webhooks/paddle',
      paddle,
      signPaddle('pdl_ordering_secret', paddle, T),
    );
    expect(p).toMatchObject({ status: 400, json: { error: expect.stringMatching(/timestamp/) } });
    const orb = JSON.stringify({ ...fixture('orb/customer.created'), created_at: ahead });
    const o = await server.post('/webhooks/orb', orb, signOrb('orb_ordering_secret', orb, NOW));
    expect(o).toMatchObject({ status: 400, json: { error: expect.stringMatching(/timestamp/) } });
    expect(await snapshot()).toEqual({ customers: [], events: [], marks: [] });
    // Within the 5 minutes they are taken.
    const fine = JSON.stringify({
      ...fixture('paddle/customer.created'),
      occurred_at: new Date(NOW).toISOString(),
    });
    const f = await server.post(
      '/webhooks/paddle',
      fine,
      signPaddle('pdl_ordering_secret', fine, T),
    );
    expect(f.json).toEqual({ status: 'applied' });
  });
});
