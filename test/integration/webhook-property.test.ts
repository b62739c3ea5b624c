/**
 * Random deliveries at both webhook routes (fast-check, bounded runs): random bodies (text, bytes,
 * JSON, near-valid events, bodies around the 256 KiB limit), random headers and signatures that
 * are missing, garbled, for another secret, stale, for other bytes, or valid. Whatever arrives,
 * the answer is never a 5xx, and nothing is written without a valid signature.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import {
  newBillingSecret,
  signBilling,
  signStripe,
  startTestServer,
  type TestServer,
} from '../fixtures/webhookKit.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const BILLING_SECRET = newBillingSecret();
const STRIPE_SECRET = 'whsec_property_stripe_secret_0a1b2c3d';
const LIMIT = 256 * 1024;

let database: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer({
    db: database.db,
    databaseUrl: database.url,
    clock: new ManualClock(NOW),
    billingSecrets: [BILLING_SECRET],
    stripeSecret: STRIPE_SECRET,
  });
});
afterAll(async () => {
  await server?.server.close();
  await database?.drop();
});

const text = fc.string({ unit: 'binary', maxLength: 40 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const isoDate = fc
  .date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString());

const billingEvent = fc.record(
  {
    type: fc.constantFrom(
      'customer.created',
      'customer.updated',
      'customer.deactivated',
      'customer.reactivated',
      'customer.deleted',
      'invoice.paid',
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
  type: fc.constantFrom(
    'customer.created',
    'customer.updated',
    'customer.deleted',
    'customer.subscription.paused',
    'customer.subscription.resumed',
    'charge.succeeded',
  ),
  created: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }) },
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

const body: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 5, arbitrary: fc.oneof(billingEvent, stripeEvent).map((e) => JSON.stringify(e)) },
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
const randomHeaders = fc.dictionary(
  fc.constantFrom(
    'content-type',
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'stripe-signature',
    'x-request-id',
  ),
  headerValue,
  { maxKeys: 4 },
);

type Signing = 'none' | 'valid' | 'garbled' | 'wrong-secret' | 'stale' | 'other-bytes';

const delivery = fc.record({
  route: fc.constantFrom('billing', 'stripe'),
  body,
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
  random: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
});

function signatureHeaders(
  route: string,
  raw: string | Buffer,
  signing: Signing,
  random: string,
): Record<string, string> {
  const billing = route === 'billing';
  const secret = billing ? BILLING_SECRET : STRIPE_SECRET;
  const sign = (s: string, bytes: string | Buffer, t: number) =>
    billing ? signBilling(s, bytes, { timestamp: t }) : signStripe(s, bytes, t);
  switch (signing) {
    case 'none':
      return {};
    case 'valid':
      return sign(secret, raw, T);
    case 'garbled':
      return billing
        ? {
            'webhook-id': 'msg_x',
            'webhook-timestamp': String(T),
            'webhook-signature': `v1,${Buffer.from(random, 'hex').toString('base64')}`,
          }
        : { 'stripe-signature': `t=${T},v1=${random}` };
    case 'wrong-secret':
      return sign(billing ? newBillingSecret() : `${secret}x`, raw, T);
    case 'stale':
      return sign(secret, raw, T - 3600);
    case 'other-bytes':
      return sign(secret, Buffer.concat([Buffer.from(raw), Buffer.from(' ')]), T);
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
  it('never answer 5xx, and write nothing without a valid signature', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(delivery, async ({ route, body: raw, signing, headers, random }) => {
        const before = await rowCounts();
        const answer = await server.post(`/webhooks/${route}`, raw, {
          ...headers,
          ...signatureHeaders(route, raw, signing, random),
        });
        seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
        expect(answer.status).toBeLessThan(500);
        if (answer.status === 200) {
          expect(answer.json).toMatchObject({
            status: expect.stringMatching(/^(applied|stale|duplicate|ignored)$/),
          });
        } else {
          expect(answer.json).toEqual({ error: expect.any(String) });
        }
        if (signing !== 'valid') {
          expect(answer.status).not.toBe(200);
          expect(await rowCounts()).toEqual(before);
        }
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 200) },
    );
    // The generators reach past verification: shapes refused, and some events taken.
    expect([...seen.keys()]).toEqual(expect.arrayContaining([200, 401, 413, 422]));
  });
});
