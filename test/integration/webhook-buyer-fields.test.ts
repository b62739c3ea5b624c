/**
 * A field the buyer can write does not choose whose workspace changes (issue 25, item 1).
 *
 * Paddle copies a checkout's `customData` (set in the buyer's browser by Paddle.js) to the
 * transaction and on to the subscription, so a subscription's `custom_data` is the buyer's to
 * write; a customer's `custom_data` is set only through Paddle's API with the merchant's key. So a
 * subscription event's customer is the one its `ctm_…` id is known as, learned from customer
 * events, and a subscription whose `custom_data[BILLING_CUSTOMER_ID_KEY]` names anyone else is
 * refused (422, nothing written, logged). The other vendors take our id only from fields the
 * merchant's API sets (see the Docs of the report and vendorIdentity.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';

import { fixture, type Payload } from '../support/webhookFixtures.js';
import { signPaddle } from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const PADDLE = 'pdl_ntfset_buyer_fields_secret_6Yh';
const SAM = { ctm: 'ctm_01hv8wpts9m8tr5e3bvtfbdbzy', id: 'acct_sam_42' };
const EVE = { ctm: 'ctm_01hveveeveeveeveeveeveeve0', id: 'acct_eve_13' };

const { database, server, clock } = webhookSuite({
  secrets: { paddle: PADDLE },
  env: { BILLING_CUSTOMER_ID_KEY: 'account_id' },
  resetLogs: true,
});

let seq = 0;
const paddle = (p: Payload) => {
  const raw = JSON.stringify(p);
  return server.post('/webhooks/paddle', raw, signPaddle(PADDLE, raw, clock.now() / 1000));
};

/** A customer event from Paddle: `custom_data` as the merchant set it through Paddle's API. */
function customerCreated(who: { ctm: string; id: string }, name: string): Payload {
  const p = fixture('paddle/customer.created');
  p.event_id = `evt_customer_${(seq += 1)}`;
  p.data = { ...p.data, id: who.ctm, name, custom_data: { account_id: who.id } };
  return p;
}

/** A subscription event: its `custom_data` is whatever the buyer's checkout carried. */
function subscription(
  verb: 'paused' | 'canceled' | 'resumed',
  ctm: string,
  customData: Record<string, unknown> | null,
): Payload {
  const p = fixture(
    verb === 'resumed' ? 'paddle/subscription.resumed' : 'paddle/subscription.paused',
  );
  p.event_id = `evt_subscription_${(seq += 1)}`;
  p.event_type = `subscription.${verb}`;
  p.occurred_at = '2024-04-12T12:00:00.812Z';
  p.data = {
    ...p.data,
    status: verb === 'resumed' ? 'active' : verb,
    customer_id: ctm,
    custom_data: customData,
  };
  return p;
}

const customers = async () =>
  (await database.pool.query('select id, status from customers order by id')).rows;
const events = async () =>
  (await database.pool.query('select count(*)::int as n from webhook_events')).rows[0].n;

describe('Paddle: a subscription changes the customer its ctm_ id is known as', () => {
  beforeEach(async () => {
    expect((await paddle(customerCreated(SAM, 'Sam Miller'))).json).toEqual({ status: 'applied' });
    expect((await paddle(customerCreated(EVE, 'Eve Mallory'))).json).toEqual({ status: 'applied' });
    server.queue.calls.length = 0;
  });

  it('a buyer who names another customer in custom_data is refused: 422, nothing written, logged', async () => {
    const before = await events();
    const answer = await paddle(subscription('canceled', EVE.ctm, { account_id: SAM.id }));
    expect(answer.status).toBe(422);
    expect(answer.json).toEqual({
      error: `data.custom_data.account_id names another customer than ${EVE.ctm} is known as`,
    });
    expect(await customers()).toEqual([
      { id: EVE.id, status: 'active' },
      { id: SAM.id, status: 'active' },
    ]);
    expect(await events()).toBe(before);
    expect(server.queue.calls).toEqual([]);
    const refused = server.logs.find((l) => l.includes('webhook refused'));
    expect(refused).toContain('names another customer');
  });

  it('a subscription without the key reaches the customer its ctm_ id was learned for', async () => {
    const answer = await paddle(subscription('paused', SAM.ctm, null));
    expect(answer.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([
      { id: EVE.id, status: 'active' },
      { id: SAM.id, status: 'inactive' },
    ]);
    expect(server.queue.ids).toEqual([SAM.id]);
  });

  it('a subscription whose custom_data agrees with its ctm_ id is applied', async () => {
    const answer = await paddle(subscription('paused', EVE.ctm, { account_id: EVE.id, utm: 'x' }));
    expect(answer.json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([
      { id: EVE.id, status: 'inactive' },
      { id: SAM.id, status: 'active' },
    ]);
  });

  it('a subscription event never teaches a ctm_ id: the buyer cannot point theirs at anyone', async () => {
    // A fresh ctm_ no customer event has named: its claim cannot be checked, so it is refused
    // (Paddle retries it; it goes through once the customer event has arrived).
    const fresh = 'ctm_01hvfreshfreshfreshfresh00';
    const claim = subscription('canceled', fresh, { account_id: SAM.id });
    expect(await paddle(claim)).toMatchObject({ status: 422 });
    expect(await paddle(subscription('canceled', fresh, { account_id: SAM.id }))).toMatchObject({
      status: 422,
    });
    expect(await customers()).toEqual([
      { id: EVE.id, status: 'active' },
      { id: SAM.id, status: 'active' },
    ]);
    const { rows } = await database.pool.query(
      `select count(*)::int as n from vendor_customers where vendor_customer_id = $1`,
      [fresh],
    );
    expect(rows[0].n).toBe(0);
  });

  it('a subscription that arrived before its customer event goes through on the retry', async () => {
    const ann = { ctm: 'ctm_01hvannannannannannannann00', id: 'acct_ann_7' };
    const early = subscription('paused', ann.ctm, { account_id: ann.id });
    expect(await paddle(early)).toMatchObject({ status: 422 });
    expect((await paddle(customerCreated(ann, 'Ann Lee'))).json).toEqual({ status: 'applied' });
    clock.advance(60_000);
    expect((await paddle(early)).json).toEqual({ status: 'applied' });
    expect(await customers()).toContainEqual({ id: ann.id, status: 'inactive' });
  });

  it('a later customer event moves the ctm_ id; an older one does not move it back', async () => {
    const moved = customerCreated({ ctm: EVE.ctm, id: 'acct_eve_new' }, 'Eve Mallory');
    moved.event_type = 'customer.updated';
    moved.occurred_at = '2024-04-13T10:00:00Z';
    expect((await paddle(moved)).json).toEqual({ status: 'applied' });
    const older = customerCreated(EVE, 'Eve Mallory');
    older.event_type = 'customer.updated';
    older.occurred_at = '2024-04-12T11:00:00Z';
    await paddle(older);
    const answer = await paddle(subscription('paused', EVE.ctm, { account_id: EVE.id }));
    expect(answer).toMatchObject({ status: 422 });
    const paused = subscription('paused', EVE.ctm, null);
    paused.occurred_at = '2024-04-14T09:00:00Z';
    expect((await paddle(paused)).json).toEqual({ status: 'applied' });
    expect(await customers()).toContainEqual({ id: 'acct_eve_new', status: 'inactive' });
  });
});
