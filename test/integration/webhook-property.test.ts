/**
 * Random deliveries at every webhook route (billing, Stripe, Paddle, Chargebee, Lago, Orb, Polar;
 * fast-check, bounded runs): random bodies (text, bytes, JSON, near-valid events of each sender,
 * truncated events, deep JSON, bodies around the 256 KiB limit), hostile strings wherever a string
 * goes (NUL and control characters, unicode, SQL, over-long), event times around now (some ahead of
 * the signed time), any content type, random headers and signatures that are missing, garbled, for
 * another secret, stale, for other bytes, or valid. Any arrival gets an answer docs/contract.md
 * documents (200, 400, 401, 413, 422), never a 5xx; nothing is written on any other answer, nor
 * without valid authentication (for Chargebee's basic auth, which signs neither bytes nor time,
 * right credentials are valid whatever the body). webhook-hostile.test.ts pins each kind's status.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  chargebeeAuth,
  type Headers,
  newBillingSecret,
  polarSigningSecret,
  signLagoHmac,
  signOrb,
  signPaddle,
  signStandardWebhooks,
  signStripe,
} from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const BILLING_SECRET = newBillingSecret();
const STRIPE_SECRET = 'whsec_property_stripe_secret_0a1b2c3d';
const LIMIT = 256 * 1024;
const PADDLE = 'pdl_ntfset_property_secret_4Hq';
const CB = { user: 'cb-property', pass: 'cb-property-pass-2Wx' };
const LAGO = 'lago_property_hmac_7Kd';
const ORB = 'orb_property_secret_1Zt';
const POLAR = 'polar_whs_property_secret_6Mv';

const { database, server } = webhookSuite({
  now: NOW,
  secrets: {
    billing: [BILLING_SECRET],
    stripe: STRIPE_SECRET,
    paddle: PADDLE,
    chargebee: CB,
    lago: LAGO,
    orb: ORB,
    polar: POLAR,
  },
  env: { BILLING_CUSTOMER_ID_KEY: 'account_id' },
});

/** Strings a hostile or broken sender puts in any field, among random ones. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'a\u0000b',
      '\u0007\u001b[31m\u007f',
      '\u202eevil\u202c',
      'a\ud800b',
      'Ōsaka 株式会社 👩‍💻 e\u0301',
      "x'); DROP TABLE customers;--",
      'n'.repeat(256),
      'n'.repeat(501),
    ),
  },
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const isoDate = fc.oneof(
  fc
    .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  // Around now: some within the 5 minutes a body may be ahead of its signature, some past them.
  fc.integer({ min: -600, max: 600 }).map((s) => new Date(NOW + s * 1000).toISOString()),
);

const billingEvent = fc.record(
  {
    type: fc.oneof(
      {
        weight: 5,
        arbitrary: fc.constantFrom(
          'customer.created',
          'customer.updated',
          'customer.deactivated',
          'customer.reactivated',
          'customer.deleted',
          'invoice.paid',
        ),
      },
      { weight: 1, arbitrary: text },
    ),
    timestamp: fc.oneof({ weight: 4, arbitrary: isoDate }, { weight: 1, arbitrary: text }),
    data: fc.record(
      {
        id: fc.oneof(fc.constantFrom('cus_1', 'cus_2'), text),
        name: maybe(fc.oneof(text, fc.constant(null))),
        status: maybe(fc.constantFrom('active', 'inactive', 'deleted', 'bogus')),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['type'] },
);

const stripeEvent = fc.record({
  id: fc.oneof(fc.constantFrom('evt_1', 'evt_2'), text),
  type: fc.oneof(
    {
      weight: 5,
      arbitrary: fc.constantFrom(
        'customer.created',
        'customer.updated',
        'customer.deleted',
        'customer.subscription.paused',
        'customer.subscription.resumed',
        'charge.succeeded',
      ),
    },
    { weight: 1, arbitrary: text },
  ),
  created: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }) },
    { weight: 2, arbitrary: fc.integer({ min: T - 600, max: T + 600 }) },
    { weight: 1, arbitrary: fc.double() },
  ),
  data: fc.record({
    object: fc.record(
      {
        id: fc.oneof(fc.constantFrom('cus_1', 'cus_2'), text),
        name: maybe(fc.oneof(text, fc.constant(null))),
        customer: maybe(fc.oneof(fc.constant('cus_1'), text, fc.record({ id: text }))),
      },
      { requiredKeys: [] },
    ),
  }),
});

const id = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('c_1', 'c_2') },
  { weight: 1, arbitrary: text },
);
const when = fc.oneof({ weight: 4, arbitrary: isoDate }, { weight: 1, arbitrary: text });
const name = maybe(fc.oneof(text, fc.constant(null)));
const metadata = maybe(
  fc.oneof(fc.constant(null), fc.record({ account_id: maybe(fc.oneof(id, fc.integer())) })),
);
const status = fc.constantFrom('active', 'paused', 'canceled', 'cancelled', 'archived', 'x');

const paddleEvent = fc.record(
  {
    event_id: id,
    event_type: fc.constantFrom('customer.created', 'subscription.paused', 'transaction.paid'),
    occurred_at: when,
    data: fc.record(
      { id, customer_id: id, name, status, custom_data: metadata },
      { requiredKeys: ['id', 'customer_id'] },
    ),
  },
  { requiredKeys: ['event_id', 'event_type', 'occurred_at'] },
);

const customerOf = fc.record(
  { id, first_name: name, company: name, meta_data: metadata, resource_version: maybe(fc.nat()) },
  { requiredKeys: [] },
);
const chargebeeEvent = fc.record(
  {
    id,
    event_type: fc.constantFrom('customer_created', 'customer_deleted', 'subscription_paused', 'x'),
    occurred_at: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }) },
      { weight: 1, arbitrary: fc.double() },
    ),
    content: fc.record(
      {
        customer: customerOf,
        subscription: fc.record({ customer_id: id, status, resource_version: maybe(fc.nat()) }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['id', 'event_type', 'occurred_at', 'content'] },
);

const lagoEvent = fc.record(
  {
    webhook_type: fc.constantFrom('customer.created', 'subscription.terminated', 'invoice.created'),
    customer: fc.record(
      { external_id: id, name, updated_at: maybe(isoDate) },
      { requiredKeys: [] },
    ),
    subscription: fc.record(
      { external_customer_id: id, terminated_at: maybe(fc.oneof(isoDate, text)) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['webhook_type'] },
);

const orbCustomer = fc.record(
  { id, external_customer_id: maybe(fc.oneof(id, fc.constant(null))), name },
  { requiredKeys: [] },
);
const orbEvent = fc.record(
  {
    id,
    type: fc.constantFrom('customer.created', 'subscription.ended', 'invoice.issued'),
    created_at: when,
    customer: orbCustomer,
    subscription: fc.record({ customer: orbCustomer }),
  },
  { requiredKeys: ['id', 'type', 'created_at'] },
);

const polarEvent = fc.record(
  {
    type: fc.constantFrom('customer.created', 'customer.deleted', 'subscription.revoked', 'x'),
    timestamp: when,
    data: fc.record(
      {
        id,
        external_id: maybe(id),
        name,
        metadata,
        status,
        customer: fc.record({ id, metadata }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['type', 'timestamp', 'data'] },
);

/** Each route's near-valid events: mostly its own sender's, sometimes another's. */
const EVENTS: Record<string, fc.Arbitrary<unknown>> = {
  billing: billingEvent,
  stripe: stripeEvent,
  paddle: paddleEvent,
  chargebee: chargebeeEvent,
  lago: lagoEvent,
  orb: orbEvent,
  polar: polarEvent,
};
const ROUTES = Object.keys(EVENTS);

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

const bodyFor = (route: string): fc.Arbitrary<string | Buffer> =>
  fc.oneof(
    { weight: 6, arbitrary: EVENTS[route]!.map((e) => JSON.stringify(e)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(EVENTS[route]!, fc.nat())
        .map(([e, n]) => JSON.stringify(e).slice(0, n % JSON.stringify(e).length)),
    },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }).map(deep) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(EVENTS[route]!, fc.integer({ min: 1, max: 50_000 }))
        .map(([e, n]) =>
          JSON.stringify(e).replace(/"(id|name)":("[^"]*"|null)/, `"$1":${deep(n)}`),
        ),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(...Object.values(EVENTS)).map((e) => JSON.stringify(e)),
    },
    { weight: 2, arbitrary: fc.json() },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: LIMIT - 64, max: LIMIT + 64 })
        .map((n) => `"${'x'.repeat(n - 2)}"`),
    },
  );

const headerValue = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 120,
});
const contentType = fc.oneof(
  headerValue,
  fc.constantFrom(
    'garbage',
    'application/json, text/plain',
    ';;;',
    'application/json; charset=utf-16',
    'multipart/form-data; boundary=x',
  ),
);
const randomHeaders = fc.dictionary(
  fc.constantFrom(
    'content-type',
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'stripe-signature',
    'svix-id',
    'svix-signature',
    'paddle-signature',
    'authorization',
    'x-lago-signature',
    'x-lago-signature-algorithm',
    'x-lago-unique-key',
    'x-orb-signature',
    'x-orb-timestamp',
    'x-request-id',
  ),
  headerValue,
  { maxKeys: 4 },
);

type Signing = 'none' | 'valid' | 'garbled' | 'wrong-secret' | 'stale' | 'other-bytes';

const delivery = fc.constantFrom(...ROUTES).chain((route) =>
  fc.record({
    route: fc.constant(route),
    body: bodyFor(route),
    signing: fc.oneof(
      { weight: 4, arbitrary: fc.constant<Signing>('valid') },
      {
        weight: 5,
        arbitrary: fc.constantFrom<Signing>(
          'none',
          'garbled',
          'wrong-secret',
          'stale',
          'other-bytes',
        ),
      },
    ),
    headers: randomHeaders,
    contentType: maybe(contentType),
    random: fc.string({
      unit: fc.constantFrom(...'0123456789abcdef'),
      minLength: 64,
      maxLength: 64,
    }),
  }),
);

type Signer = (secret: string, raw: string | Buffer, atSeconds: number) => Headers;

/** Per route: its secret, one unrelated to it, and how a delivery is signed with either. */
const SIGNERS: Record<string, { secret: string; other: string; sign: Signer }> = {
  billing: {
    secret: BILLING_SECRET,
    other: newBillingSecret(),
    sign: (s, raw, t) => signStandardWebhooks(s, raw, { timestamp: t }),
  },
  stripe: { secret: STRIPE_SECRET, other: `${STRIPE_SECRET}x`, sign: signStripe },
  paddle: { secret: PADDLE, other: `${PADDLE}x`, sign: signPaddle },
  chargebee: {
    secret: CB.pass,
    other: `${CB.pass}x`,
    sign: (s) => chargebeeAuth(CB.user, s),
  },
  lago: { secret: LAGO, other: `${LAGO}x`, sign: (s, raw) => signLagoHmac(s, raw) },
  orb: { secret: ORB, other: `${ORB}x`, sign: (s, raw, t) => signOrb(s, raw, t * 1000) },
  polar: {
    secret: POLAR,
    other: `${POLAR}x`,
    sign: (s, raw, t) => signStandardWebhooks(polarSigningSecret(s), raw, { timestamp: t }),
  },
};

/** Headers for a signing case, and whether they authenticate the delivery as sent. */
function signatureHeaders(
  route: string,
  raw: string | Buffer,
  signing: Signing,
  random: string,
): { headers: Headers; authentic: boolean } {
  const { secret, other, sign } = SIGNERS[route]!;
  // Basic auth signs neither bytes nor time; Lago signs no time: those cases stay authentic.
  const authenticStale = route === 'chargebee' || route === 'lago';
  switch (signing) {
    case 'none':
      return { headers: {}, authentic: false };
    case 'valid':
      return { headers: sign(secret, raw, T), authentic: true };
    case 'garbled':
      return { headers: garbled(route, random), authentic: false };
    case 'wrong-secret':
      return { headers: sign(other, raw, T), authentic: false };
    case 'stale':
      return { headers: sign(secret, raw, T - 3600), authentic: authenticStale };
    case 'other-bytes':
      return {
        headers: sign(secret, Buffer.concat([Buffer.from(raw), Buffer.from(' ')]), T),
        authentic: route === 'chargebee',
      };
  }
}

/** Well-formed headers carrying a random signature. */
function garbled(route: string, random: string): Headers {
  const b64 = Buffer.from(random, 'hex').toString('base64');
  switch (route) {
    case 'billing':
    case 'polar':
      return {
        'webhook-id': 'msg_x',
        'webhook-timestamp': String(T),
        'webhook-signature': `v1,${b64}`,
      };
    case 'stripe':
      return { 'stripe-signature': `t=${T},v1=${random}` };
    case 'paddle':
      return { 'paddle-signature': `ts=${T};h1=${random}` };
    case 'chargebee':
      return { authorization: `Basic ${b64}` };
    case 'lago':
      return { 'x-lago-signature': b64, 'x-lago-signature-algorithm': 'hmac' };
    default:
      return { 'x-orb-timestamp': new Date(NOW).toISOString(), 'x-orb-signature': `v1=${random}` };
  }
}

const rowCounts = async () =>
  (
    await database.pool.query<{ c: number; e: number; m: number }>(
      `select (select count(*)::int from customers) as c, (select count(*)::int from webhook_events) as e,
              (select count(*)::int from customer_event_marks) as m`,
    )
  ).rows[0];

describe('random deliveries', () => {
  it('a name built from free-text fields with NUL in it is refused 422, not a 500', async () => {
    // Found by the property below (seed -297881847): Chargebee's name is built from first_name.
    const raw = JSON.stringify({
      id: 'ev_nul_name',
      event_type: 'customer_created',
      occurred_at: 1_700_000_000,
      content: { customer: { id: 'cus_nul_name', first_name: 'Ada\u0000' } },
    });
    const before = await rowCounts();
    const signed = signatureHeaders('chargebee', raw, 'valid', '0'.repeat(64));
    const answer = await server.post('/webhooks/chargebee', raw, signed.headers);
    expect(answer.status).toBe(422);
    expect(answer.json).toEqual({ error: expect.stringContaining('NUL') });
    expect(await rowCounts()).toEqual(before);
  });

  it('answer only documented statuses, and write nothing unless authentic and taken', async () => {
    const seen = new Map<number, number>();
    const seenBy = new Map<string, Set<number>>();
    await fc.assert(
      fc.asyncProperty(delivery, async (d) => {
        const { route, body: raw, signing, headers, random, contentType } = d;
        const before = await rowCounts();
        const signed = signatureHeaders(route, raw, signing, random);
        const answer = await server.post(`/webhooks/${route}`, raw, {
          ...headers,
          ...signed.headers,
          ...(contentType === undefined ? {} : { 'content-type': contentType }),
        });
        seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
        seenBy.set(route, (seenBy.get(route) ?? new Set()).add(answer.status));
        expect([200, 400, 401, 413, 422]).toContain(answer.status);
        if (answer.status === 200) {
          expect(answer.json).toMatchObject({
            status: expect.stringMatching(/^(applied|stale|duplicate|ignored)$/),
          });
        } else {
          expect(answer.json).toEqual({ error: expect.any(String) });
        }
        if (!signed.authentic) expect(answer.status).not.toBe(200);
        if (answer.status !== 200) expect(await rowCounts()).toEqual(before);
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 500) },
    );
    // The generators reach past verification: shapes refused, and some events taken.
    expect([...seen.keys()]).toEqual(expect.arrayContaining([200, 400, 401, 413, 422]));
    // Every route was reached and refused at its verification. (Whether each also took a random
    // authentic event is chance at this many runs; each route's valid events are applied in
    // webhook-billing-systems.test.ts and webhook-billing.test.ts, deterministically.)
    for (const route of ROUTES) {
      expect([...(seenBy.get(route) ?? [])], route).toEqual(expect.arrayContaining([401]));
    }
  });
});
