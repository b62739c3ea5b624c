/**
 * Which id is ours on each billing system's route (BILLING_CUSTOMER_ID_KEY, Lago's and Orb's
 * external ids, Polar's `external_id`), Lago's JWT mode, and Chargebee's basic auth in detail.
 */
import { describe, expect, it } from 'vitest';

import { chargebeeAccepts } from '../support/vendorSdks.js';
import { fixture, type Payload } from '../support/webhookFixtures.js';
import {
  chargebeeAuth,
  type Headers,
  lagoKeys,
  polarSigningSecret,
  signLagoHmac,
  signLagoJwt,
  signOrb,
  signPaddle,
  signStandardWebhooks,
} from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const PADDLE = 'pdl_ntfset_ids_test_secret_8Xk2';
const CB = { user: 'cb-user', pass: 'cb-pass-ids-3Lm' };
const ORB = 'orb_ids_secret_5Tq';
const POLAR = 'polar_whs_ids_secret_9Pz';
const LAGO_KEYS = lagoKeys();

const { database, server, clock } = webhookSuite({
  secrets: {
    paddle: PADDLE,
    chargebee: CB,
    // JWT mode only: HMAC deliveries are refused.
    lagoKeys: LAGO_KEYS,
    orb: ORB,
    polar: POLAR,
  },
  env: { BILLING_CUSTOMER_ID_KEY: 'account_id' },
});

const ids = async () =>
  (await database.pool.query('select id from customers order by id')).rows.map((r) => r.id);
const written = async () =>
  (
    await database.pool.query(
      `select (select count(*)::int from customers) as c, (select count(*)::int from webhook_events) as e`,
    )
  ).rows[0];

const send = {
  paddle: (p: Payload) => {
    const raw = JSON.stringify(p);
    return server.post('/webhooks/paddle', raw, signPaddle(PADDLE, raw, clock.now() / 1000));
  },
  chargebee: (p: Payload, headers: Headers = chargebeeAuth(CB.user, CB.pass)) =>
    server.post('/webhooks/chargebee', JSON.stringify(p), headers),
  orb: (p: Payload) => {
    const raw = JSON.stringify(p);
    return server.post('/webhooks/orb', raw, signOrb(ORB, raw, clock.now()));
  },
  polar: (p: Payload) => {
    const raw = JSON.stringify(p);
    const headers = signStandardWebhooks(polarSigningSecret(POLAR), raw, {
      timestamp: Math.floor(clock.now() / 1000),
    });
    return server.post('/webhooks/polar', raw, headers);
  },
  lago: (raw: string, headers: Headers) => server.post('/webhooks/lago', raw, headers),
};

describe('BILLING_CUSTOMER_ID_KEY names the metadata key holding our id', () => {
  it('Paddle custom_data, Chargebee meta_data, Polar metadata', async () => {
    expect((await send.paddle(fixture('paddle/customer.created'))).json).toEqual({
      status: 'applied',
    });
    expect((await send.chargebee(fixture('chargebee/customer_created'))).json).toEqual({
      status: 'applied',
    });
    expect((await send.polar(fixture('polar/customer.created'))).json).toEqual({
      status: 'applied',
    });
    expect(await ids()).toEqual(['acct_acme_7', 'acct_sam_42', 'acct_umbrella_3']);
  });

  it('a subscription event carrying the key reaches the same customer', async () => {
    await send.chargebee(fixture('chargebee/customer_created'));
    expect((await send.chargebee(fixture('chargebee/subscription_paused'))).json).toEqual({
      status: 'applied',
    });
    const { rows } = await database.pool.query('select id, status from customers');
    expect(rows).toEqual([{ id: 'acct_acme_7', status: 'inactive' }]);
  });

  it('without the key on the event, the vendor id; a Paddle subscription lacking it creates nothing', async () => {
    const created = fixture('paddle/customer.created');
    created.data.custom_data = null;
    await send.paddle(created);
    expect(await ids()).toEqual(['ctm_01hv8wpts9m8tr5e3bvtfbdbzy']);
    await database.truncate();
    // The subscription's own custom_data is what Paddle sends: without the key, no name, no row.
    expect((await send.paddle(fixture('paddle/subscription.paused'))).json).toEqual({
      status: 'ignored',
    });
    expect(await written()).toEqual({ c: 0, e: 1 });
  });

  it('a value under the key that is not a usable id is refused (422), nothing written', async () => {
    const bad = fixture('polar/customer.created');
    bad.data.metadata.account_id = '';
    const answer = await send.polar(bad);
    expect(answer).toMatchObject({ status: 422 });
    expect(answer.json).toEqual({ error: 'data.metadata.account_id: not a usable customer id' });
    expect(await written()).toEqual({ c: 0, e: 0 });
  });
});

describe('ids the billing system carries itself', () => {
  it('Polar external_id when no key is on the customer; Orb its own id without external_customer_id', async () => {
    const polar = fixture('polar/customer.created');
    polar.data.metadata = {};
    polar.data.external_id = 'user_umbrella';
    await send.polar(polar);
    const orb = fixture('orb/customer.created');
    orb.customer.external_customer_id = null;
    await send.orb(orb);
    expect(await ids()).toEqual(['XuxCbt7x9L82yyeF', 'user_umbrella']);
  });
});

describe('Lago JWT mode', () => {
  const raw = JSON.stringify(fixture('lago/customer.created'));

  it('an RS256 JWT over the body, checked with the base64 public key, is applied', async () => {
    const answer = await send.lago(raw, signLagoJwt(LAGO_KEYS.privateKey, raw));
    expect(answer).toMatchObject({ status: 200, json: { status: 'applied' } });
    expect(await ids()).toEqual(['cust_lago_1']);
  });

  it.each([
    ['another key', () => signLagoJwt(lagoKeys().privateKey, raw)],
    ['alg none', () => signLagoJwt(LAGO_KEYS.privateKey, raw, { alg: 'none' })],
    ['data that is not the body', () => signLagoJwt(LAGO_KEYS.privateKey, raw, { data: '{}' })],
    ['hmac, not configured here', () => signLagoHmac('any', raw)],
    [
      'an unknown algorithm',
      () => ({ ...signLagoHmac('any', raw), 'x-lago-signature-algorithm': 'rsa' }),
    ],
    ['no signature', () => ({ 'x-lago-unique-key': 'k1', 'content-type': 'application/json' })],
  ])('refuses %s with 401, writing nothing', async (_what, headers) => {
    expect(await send.lago(raw, headers())).toMatchObject({ status: 401 });
    expect(await written()).toEqual({ c: 0, e: 0 });
  });

  it('a signed delivery without X-Lago-Unique-Key is 422', async () => {
    const headers = signLagoJwt(LAGO_KEYS.privateKey, raw);
    delete headers['x-lago-unique-key'];
    expect(await send.lago(raw, headers)).toMatchObject({ status: 422 });
    expect(await written()).toEqual({ c: 0, e: 0 });
  });
});

describe('Chargebee basic auth', () => {
  const body = fixture('chargebee/customer_created');
  it.each([
    ['no Authorization', { 'content-type': 'application/json' }],
    ['a wrong username', chargebeeAuth(`${CB.user}x`, CB.pass)],
    ['a wrong password', chargebeeAuth(CB.user, 'nope')],
    ['a bearer token', { authorization: `Bearer ${CB.pass}` }],
  ])('refuses %s with 401, as the SDK does, writing nothing', async (_what, headers) => {
    expect(await chargebeeAccepts(headers, CB.user, CB.pass)).toBe(false);
    expect(await send.chargebee(body, headers)).toMatchObject({ status: 401 });
    expect(await written()).toEqual({ c: 0, e: 0 });
  });
});
