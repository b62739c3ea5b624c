/**
 * A corpus of hostile deliveries at both webhook routes, each with the status docs/contract.md
 * documents for it: bad signatures, stale and future times, truncated, huge and non-UTF-8 bodies,
 * content types Fastify cannot parse, deep JSON, control and unicode characters, NUL, SQL-looking
 * strings, unknown types, and ids of other shapes and lengths. Never a 5xx; anything not answered
 * 200 writes nothing; what is taken is stored exactly.
 */
import { describe, expect, it } from 'vitest';

import { newBillingSecret, signStandardWebhooks, signStripe } from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const NOW = Date.parse('2026-11-28T12:05:00.000Z');
const T = NOW / 1000;
const BILLING = newBillingSecret();
const STRIPE = 'whsec_hostile_stripe_secret_7c6b5a49';
const LIMIT = 256 * 1024;
const AT = '2026-11-28T12:00:00.000Z';

const { database, server } = webhookSuite({
  now: NOW,
  secrets: { billing: [BILLING], stripe: STRIPE },
});

type Raw = string | Buffer;
interface Delivery {
  readonly route: 'billing' | 'stripe';
  readonly body: Raw;
  readonly headers: Record<string, string>;
}

const json = (v: unknown) => JSON.stringify(v);
const billingBody = (data: unknown, type = 'customer.created', timestamp: unknown = AT) =>
  json({ type, timestamp, data });
/** Signed as the sender would, with options to sign something else. */
const billing = (
  body: Raw,
  o: { t?: number; id?: string; signed?: Raw; headers?: Record<string, string> } = {},
): Delivery => ({
  route: 'billing',
  body,
  headers: {
    ...signStandardWebhooks(BILLING, o.signed ?? body, {
      timestamp: o.t ?? T,
      id: o.id ?? 'msg_1',
    }),
    ...o.headers,
  },
});
const stripeBody = (over: Record<string, unknown> = {}, object: unknown = { id: 'cus_s' }) =>
  json({ id: 'evt_1', type: 'customer.created', created: T - 60, data: { object }, ...over });
const stripe = (body: Raw, t = T): Delivery => ({
  route: 'stripe',
  body,
  headers: signStripe(STRIPE, body, t),
});

const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const named = (name: unknown, id: unknown = 'cus_1') => billing(billingBody({ id, name }));
const SQL = `Robert'); DROP TABLE customers;--`;

/** [what, delivery, documented status, outcome when 200] */
const table: [string, Delivery, number, string?][] = [
  // Signatures: 401 whatever the body.
  ['no signature headers', { route: 'billing', body: billingBody({ id: 'c' }), headers: {} }, 401],
  ['a signature over other bytes', billing(named('A').body, { signed: 'x' }), 401],
  ['a header time 301 s old', billing(named('A').body, { t: T - 301 }), 401],
  ['a header time 301 s ahead', billing(named('A').body, { t: T + 301 }), 401],
  [
    'a non-numeric webhook-timestamp',
    billing(named('A').body, { headers: { 'webhook-timestamp': '1e9' } }),
    401,
  ],
  [
    'only a v2 signature',
    billing(named('A').body, { headers: { 'webhook-signature': 'v2,abc=' } }),
    401,
  ],
  ['Stripe: no signature', { route: 'stripe', body: stripeBody(), headers: {} }, 401],
  ['Stripe: stale t=', stripe(stripeBody(), T - 301), 401],
  // Body times: a future one is 400, a malformed one 422, an old one is fine.
  [
    'a body time 301 s ahead',
    billing(billingBody({ id: 'c', name: 'A' }, undefined, new Date(NOW + 301_000).toISOString())),
    400,
  ],
  [
    'a body time in year 9999',
    billing(billingBody({ id: 'c', name: 'A' }, undefined, '9999-12-31T23:59:59Z')),
    400,
  ],
  [
    'a body time that is not ISO',
    billing(billingBody({ id: 'c', name: 'A' }, undefined, 'yesterday')),
    422,
  ],
  ['a body time as a number', billing(billingBody({ id: 'c', name: 'A' }, undefined, T)), 422],
  [
    'a body time in 1970',
    billing(billingBody({ id: 'c', name: 'A' }, undefined, '1970-01-01T00:00:00Z')),
    200,
    'applied',
  ],
  ['Stripe: created 301 s after t=', stripe(stripeBody({ created: T + 301 })), 400],
  ['Stripe: created as a float', stripe(stripeBody({ created: T - 0.5 })), 422],
  // Bodies.
  ['an empty body', billing(''), 400],
  ['truncated JSON', billing(named('Acme').body.toString().slice(0, 40)), 400],
  ['bytes that are not UTF-8 JSON', billing(Buffer.from([0xff, 0xfe, 0x7b, 0x00])), 400],
  ['a JSON array', billing('[1,2,3]'), 422],
  ['JSON null', billing('null'), 422],
  ['a body over 256 KiB, signed', billing(`"${'x'.repeat(LIMIT)}"`), 413],
  [
    'a body over 256 KiB, unsigned',
    { route: 'billing', body: 'x'.repeat(LIMIT + 1), headers: {} },
    413,
  ],
  ['Stripe: a body over 256 KiB', stripe(`"${'x'.repeat(LIMIT)}"`), 413],
  // Content types are not read: the signed bytes are.
  [
    'content type "garbage"',
    billing(named('A').body, { headers: { 'content-type': 'garbage' } }),
    200,
    'applied',
  ],
  [
    'content type "a, b"',
    billing(named('A').body, { headers: { 'content-type': 'application/json, text/plain' } }),
    200,
    'applied',
  ],
  [
    'content type form',
    billing(named('A').body, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    200,
    'applied',
  ],
  // Deep JSON.
  [
    'a name 100,000 arrays deep',
    billing(
      billingBody({ id: 'c' }).replace('{"id":"c"}', `{"id":"c","name":${deepArray(100_000)}}`),
    ),
    422,
  ],
  [
    'data 40,000 objects deep',
    billing(
      `{"type":"customer.created","timestamp":"${AT}","data":${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}}`,
    ),
    422,
  ],
  ['a body 120,000 arrays deep', billing(deepArray(120_000)), 422],
  // Names.
  ['a name with control characters', named('\u0007Bell\u001b[31m\u007f'), 200, 'applied'],
  ['a name in other scripts and emoji', named('Ōsaka 株式会社 مرحبا 👩‍💻 e\u0301'), 200, 'applied'],
  ['a name with a lone surrogate', named('a\ud800b'), 200, 'applied'],
  ['a name with NUL', named('a\u0000b'), 422],
  ['a blank name', named(' \t\n'), 422],
  ['a name of 501 characters', named('n'.repeat(501)), 422],
  ['a name that is a number', named(42), 422],
  ['SQL in the name and the id', named(SQL, `x'; DELETE FROM customers; --`), 200, 'applied'],
  // Types.
  ['an unknown type', billing(billingBody({ id: 'c' }, 'invoice.paid')), 200, 'ignored'],
  [
    'an unknown customer.* type',
    billing(billingBody({ id: 'c', name: 'A' }, 'customer.exploded')),
    200,
    'ignored',
  ],
  ['an empty type', billing(billingBody({ id: 'c', name: 'A' }, '')), 422],
  ['a type with NUL', billing(billingBody({ id: 'c' }, 'invoice\u0000paid')), 422],
  ['a type of 256 characters', billing(billingBody({ id: 'c' }, 't'.repeat(256))), 422],
  ['Stripe: an unknown type', stripe(stripeBody({ type: 'charge.succeeded' })), 200, 'ignored'],
  ['Stripe: a type with NUL', stripe(stripeBody({ type: 'charge\u0000succeeded' })), 422],
  // Ids.
  ['a customer id of 255 characters', named('A', 'i'.repeat(255)), 200, 'applied'],
  ['a customer id of 256 characters', named('A', 'i'.repeat(256)), 422],
  ['a numeric customer id', named('A', 123), 422],
  ['a customer id that is an object', named('A', { id: 'c' }), 422],
  ['a customer id with NUL', named('A', 'c\u0000'), 422],
  ['a webhook-id of 256 characters', billing(named('A').body, { id: 'm'.repeat(256) }), 422],
  [
    'a webhook-id with spaces and symbols',
    billing(named('A').body, { id: 'msg 1 ; -- $%' }),
    200,
    'applied',
  ],
  ['Stripe: an event id with NUL', stripe(stripeBody({ id: 'evt_\u0000' })), 422],
  ['Stripe: an event id of 256 characters', stripe(stripeBody({ id: 'e'.repeat(256) })), 422],
  ['Stripe: a numeric event id', stripe(stripeBody({ id: 7 })), 422],
  [
    'Stripe: no data.object',
    stripe(json({ id: 'evt_1', type: 'customer.created', created: T, data: {} })),
    422,
  ],
];

const corpus = table.map(
  ([what, delivery, status, outcome]) => [what, status, delivery, outcome] as const,
);

const snapshot = async () => {
  const q = (sql: string) => database.pool.query(sql).then((r) => r.rows);
  return [
    await q('select * from customers order by id'),
    await q('select * from webhook_events order by event_id'),
    await q('select * from customer_event_marks order by customer_id'),
  ];
};

describe('hostile deliveries', () => {
  it.each(corpus)('%s → %i', async (_what, status, delivery, outcome) => {
    const before = await snapshot();
    const answer = await server.post(
      `/webhooks/${delivery.route}`,
      delivery.body,
      delivery.headers,
    );
    expect(answer.status).toBe(status);
    if (status === 200) {
      expect(answer.json).toEqual({ status: outcome });
    } else {
      expect(answer.json).toEqual({ error: expect.any(String) });
      expect(await snapshot()).toEqual(before);
    }
  });

  it('stores names and ids exactly as sent, SQL and all', async () => {
    const names = ['\u0007Bell\u001b[31m\u007f', 'Ōsaka 株式会社 مرحبا 👩‍💻 e\u0301', SQL];
    for (const [i, name] of names.entries()) {
      const body = billingBody({ id: `x'; DELETE FROM customers; -- ${i}`, name });
      expect(
        (await server.post('/webhooks/billing', body, billing(body, { id: `m${i}` }).headers))
          .status,
      ).toBe(200);
    }
    const { rows } = await database.pool.query('select id, name from customers order by id');
    expect(rows).toEqual(
      names.map((name, i) => ({ id: `x'; DELETE FROM customers; -- ${i}`, name })),
    );
  });
});
