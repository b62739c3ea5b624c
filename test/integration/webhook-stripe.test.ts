/** The Stripe webhook over real HTTP against a real database, from the recorded payloads. */
import { describe, expect, it } from 'vitest';

import { fixture } from '../support/webhookFixtures.js';
import { signStripe } from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const SECRET = 'whsec_stripe_endpoint_9f8e7d6c5b4a39281706';
const CUSTOMER = 'cus_NffrFeUfNV2Hib';

const { database, server, clock } = webhookSuite({ now: NOW, secrets: { stripe: SECRET } });

const send = (body: unknown, options: { secret?: string; t?: number; header?: string } = {}) => {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const headers = signStripe(options.secret ?? SECRET, raw, options.t ?? T);
  if (options.header !== undefined) headers['stripe-signature'] = options.header;
  return server.post('/webhooks/stripe', raw, headers);
};
const customers = async () =>
  (await database.pool.query('select id, name, status from customers')).rows;
const written = async () =>
  (
    await database.pool.query(
      `select (select count(*)::int from customers) as c, (select count(*)::int from webhook_events) as e`,
    )
  ).rows[0];

describe('POST /webhooks/stripe', () => {
  it('follows a customer through its events, keyed by the Stripe customer id', async () => {
    const steps: [string, string, string][] = [
      ['customer.created', 'Jenny Rosen', 'active'],
      ['customer.subscription.created', 'Jenny Rosen', 'active'],
      ['customer.updated', 'Jenny Rosen-Smith', 'active'],
      ['customer.subscription.paused', 'Jenny Rosen-Smith', 'inactive'],
      ['customer.subscription.resumed', 'Jenny Rosen-Smith', 'active'],
      ['customer.subscription.deleted', 'Jenny Rosen-Smith', 'inactive'],
      ['customer.deleted', 'Jenny Rosen-Smith', 'deleted'],
    ];
    for (const [i, [type, name, status]] of steps.entries()) {
      // Fixtures carry their own `created`; space them out so each is newer than the last.
      const body = { ...fixture(`stripe/${type}`), created: T - 100 + i };
      expect((await send(body)).json, type).toEqual({ status: 'applied' });
      expect(await customers()).toEqual([{ id: CUSTOMER, name, status }]);
    }
    expect(server.queue.calls).toEqual(steps.map(() => ({ ids: [CUSTOMER], trigger: 'webhook' })));
  });

  it('an unknown type is answered 200 ignored and recorded', async () => {
    const answer = await send(fixture('stripe/invoice.paid'));
    expect(answer).toMatchObject({ status: 200, json: { status: 'ignored' } });
    const { rows } = await database.pool.query(
      'select source, event_id, type, result from webhook_events',
    );
    expect(rows).toEqual([
      {
        source: 'stripe',
        event_id: 'evt_1NG8Kz2eZvKYlo2CsT4vW6xY',
        type: 'invoice.paid',
        result: 'ignored',
      },
    ]);
    expect(await customers()).toEqual([]);
    expect(server.queue.calls).toEqual([]);
  });

  it('a retried event is a duplicate', async () => {
    const body = fixture('stripe/customer.created');
    expect((await send(body)).json).toEqual({ status: 'applied' });
    clock.advance(3_600_000);
    expect((await send(body, { t: T + 3600 })).json).toEqual({ status: 'duplicate' });
    clock.set(NOW);
    expect(server.queue.calls).toHaveLength(1);
  });

  it('a subscription event for a customer not seen yet has no name: ignored, no row', async () => {
    const answer = await send(fixture('stripe/customer.subscription.paused'));
    expect(answer.json).toEqual({ status: 'ignored' });
    expect(await written()).toEqual({ c: 0, e: 1 });
  });

  it('equal `created` seconds: the later delivery wins', async () => {
    const created = { ...fixture('stripe/customer.created'), created: T - 60 };
    const paused = { ...fixture('stripe/customer.subscription.paused'), created: T - 60 };
    const resumed = { ...fixture('stripe/customer.subscription.resumed'), created: T - 60 };
    await send(created);
    await send(resumed);
    expect((await send(paused)).json).toEqual({ status: 'applied' });
    expect(await customers()).toEqual([{ id: CUSTOMER, name: 'Jenny Rosen', status: 'inactive' }]);
  });

  describe('refuses with 401 and writes nothing', () => {
    const body = JSON.stringify(fixture('stripe/customer.created'));
    it.each([
      [
        'a flipped byte',
        () =>
          server.post(
            '/webhooks/stripe',
            body.replace('Jenny', 'Jenna'),
            signStripe(SECRET, body, T),
          ),
      ],
      ['a wrong secret', () => send(body, { secret: `${SECRET}0` })],
      ['a stale timestamp', () => send(body, { t: T - 301 })],
      ['a future timestamp', () => send(body, { t: T + 301 })],
      [
        'a missing header',
        () => server.post('/webhooks/stripe', body, { 'content-type': 'application/json' }),
      ],
      ['a header without v1', () => send(body, { header: `t=${T}` })],
      ['a garbled header', () => send(body, { header: 'v1=zz,t=' })],
    ])('%s', async (_what, call) => {
      const answer = await call();
      expect(answer).toMatchObject({ status: 401, json: { error: expect.any(String) } });
      expect(await written()).toEqual({ c: 0, e: 0 });
    });
  });

  it('422 for a verified event of the wrong shape, 400 for one that is not JSON', async () => {
    expect((await send({ type: 'customer.created' })).status).toBe(422);
    expect((await send('not json')).status).toBe(400);
    expect(await written()).toEqual({ c: 0, e: 0 });
  });
});
