/**
 * A delivery whose signed bytes were already accepted is a duplicate, whatever new id and headers
 * it comes under, on every route (issue 25, item 2). Lago signs neither its unique key nor a time,
 * and Chargebee signs nothing, so their replays differ from the original only in headers; the
 * Standard Webhooks routes (billing, Polar) sign the id, so a re-send under a new id is re-signed
 * here, as only the sender could. Stripe, Paddle, Orb and Chargebee carry the event id in the body:
 * their re-sends come under new signature times.
 *
 * Corpus: every recorded payload of every route is delivered, then re-sent under a new id and new
 * headers, a second later; the answer is `duplicate` and nothing changes: no write to `customers`
 * (their `xmin` too), no event recorded, no sync queued. Property: random sequences of deliveries
 * and re-sends (with direct writes in between, as a customer who comes back) end as the distinct
 * deliveries alone would have left them.
 */
import { readdirSync } from 'node:fs';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { fixture } from '../support/webhookFixtures.js';
import { type Headers } from '../support/webhookSigners.js';
import { newWebhookSecrets } from '../support/webhookSecrets.js';
import { webhookSuite } from '../support/webhookSuite.js';

const { database, server, clock, signers } = webhookSuite({ secrets: newWebhookSecrets() });

/** One route: where its payloads are recorded, and fresh headers (a new id where it has one). */
interface Route {
  readonly path: string;
  readonly fixtures: string;
  readonly sign: (raw: string, atMs: number) => Headers;
}

const ROUTES: Record<string, Route> = {
  billing: {
    path: '/webhooks/billing',
    fixtures: 'billing',
    // A new webhook-id, signed with the secret: what only the sender itself could send.
    sign: (raw, atMs) => signers.billing(raw, { timestamp: Math.floor(atMs / 1000) }),
  },
  'billing (svix-* headers)': {
    path: '/webhooks/billing',
    fixtures: 'billing',
    sign: (raw, atMs) =>
      signers.billing(raw, { timestamp: Math.floor(atMs / 1000), names: 'svix' }),
  },
  stripe: {
    path: '/webhooks/stripe',
    fixtures: 'stripe',
    sign: (raw, atMs) => signers.stripe(raw, Math.floor(atMs / 1000)),
  },
  paddle: {
    path: '/webhooks/paddle',
    fixtures: 'paddle',
    sign: (raw, atMs) => signers.paddle(raw, Math.floor(atMs / 1000)),
  },
  chargebee: {
    path: '/webhooks/chargebee',
    fixtures: 'chargebee',
    sign: () => signers.chargebee(),
  },
  'lago (hmac)': {
    path: '/webhooks/lago',
    fixtures: 'lago',
    // A new X-Lago-Unique-Key: the signature covers only the body, so it stays valid.
    sign: (raw) => signers.lagoHmac(raw),
  },
  'lago (jwt)': {
    path: '/webhooks/lago',
    fixtures: 'lago',
    sign: (raw) => signers.lagoJwt(raw),
  },
  orb: {
    path: '/webhooks/orb',
    fixtures: 'orb',
    sign: (raw, atMs) => signers.orb(raw, atMs),
  },
  polar: {
    path: '/webhooks/polar',
    fixtures: 'polar',
    sign: (raw, atMs) => signers.polar(raw, { timestamp: Math.floor(atMs / 1000) }),
  },
};

/** The recorded payloads of a route, in a fixed order (creations first, as a sender sends them). */
function corpus(dir: string): string[] {
  const names = readdirSync(new URL(`../fixtures/webhooks/${dir}/`, import.meta.url))
    .filter((f) => f.endsWith('.json'))
    .map((f) => `${dir}/${f.slice(0, -'.json'.length)}`)
    .sort();
  const first = names.filter((n) => /customer[._]created$/.test(n));
  return [...first, ...names.filter((n) => !first.includes(n))];
}

/** Everything a second application would touch: rows (with their xmin), marks, events, syncs. */
async function state() {
  const { rows: customers } = await database.pool.query(
    'select id, name, status, updated_at, xmin::text as xmin from customers order by id',
  );
  const { rows: marks } = await database.pool.query(
    'select * from customer_event_marks order by customer_id',
  );
  const { rows: events } = await database.pool.query(
    'select source, event_id, result from webhook_events order by source, event_id',
  );
  return { customers, marks, events, syncs: server.queue.ids.length };
}

describe.each(Object.entries(ROUTES))('%s', (_name, route) => {
  const send = (raw: string) => server.post(route.path, raw, route.sign(raw, clock.now()));

  it('every accepted body re-sent under a new id and headers is a duplicate and changes nothing', async () => {
    for (const name of corpus(route.fixtures)) {
      const raw = JSON.stringify(fixture(name));
      const first = await send(raw);
      expect(first.status, name).toBe(200);
      expect(['applied', 'ignored', 'stale'], name).toContain(
        (first.json as { status: string }).status,
      );
      const before = await state();
      clock.advance(1_000);
      const again = await send(raw);
      expect(again, name).toMatchObject({ status: 200, json: { status: 'duplicate' } });
      expect(await state(), name).toEqual(before);
    }
  });
});

describe('a replay under a new key does not undo what happened since', () => {
  it('Lago: a terminated subscription re-sent after the customer came back leaves it active', async () => {
    const created = JSON.stringify(fixture('lago/customer.created'));
    const terminated = JSON.stringify(fixture('lago/subscription.terminated'));
    const lago = (raw: string) => server.post('/webhooks/lago', raw, signers.lagoHmac(raw));
    expect((await lago(created)).json).toEqual({ status: 'applied' });
    expect((await lago(terminated)).json).toEqual({ status: 'applied' });
    // The customer comes back by a direct write to the table (support reinstated them).
    await database.pool.query(`update customers set status = 'active' where id = 'cust_lago_1'`);
    const syncs = server.queue.calls.length;
    const replay = await lago(terminated);
    expect(replay).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    const { rows } = await database.pool.query('select id, status from customers');
    expect(rows).toEqual([{ id: 'cust_lago_1', status: 'active' }]);
    expect(server.queue.calls).toHaveLength(syncs);
  });
});

describe('property: re-sends under new ids never change more than the first deliveries', () => {
  /** Per route, the bodies the property draws from. */
  const bodies = Object.entries(ROUTES).map(([name, route]) => ({
    name,
    route,
    raws: corpus(route.fixtures).map((f) => JSON.stringify(fixture(f))),
  }));

  it('any order of deliveries, re-sends and direct writes', async () => {
    const step = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), i: fc.nat(9) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('write' as const), i: fc.nat(9) }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bodies),
        fc.array(step, { minLength: 1, maxLength: 12 }),
        async (pick, steps) => {
          await database.truncate();
          server.queue.calls.length = 0;
          const accepted = new Set<string>();
          for (const s of steps) {
            if (s.kind === 'write') {
              // A direct write: what a replay would undo if it were applied again.
              const status = ['active', 'inactive'][s.i % 2];
              await database.pool.query('update customers set status = $1', [status]);
              continue;
            }
            const raw = pick.raws[s.i % pick.raws.length]!;
            clock.advance(1_000);
            const before = accepted.has(raw) ? await state() : undefined;
            const answer = await server.post(
              pick.route.path,
              raw,
              pick.route.sign(raw, clock.now()),
            );
            expect(answer.status).toBe(200);
            if (before) {
              expect(answer.json).toEqual({ status: 'duplicate' });
              expect(await state()).toEqual(before);
            } else {
              expect(answer.json).not.toEqual({ status: 'duplicate' });
              accepted.add(raw);
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
