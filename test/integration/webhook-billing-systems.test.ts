/**
 * The billing systems' routes (Paddle, Chargebee, Lago, Orb, Polar) and Svix-style headers on
 * `/webhooks/billing`, over real HTTP against a real database, from recorded payloads. Every
 * delivery sent as validly signed is first accepted by the vendor's own SDK where it has a
 * verifier (see test/support/vendorSdks.ts), and every wrong or stale one refused by it.
 */
import { describe, expect, it } from 'vitest';

import {
  chargebeeAccepts,
  orbAccepts,
  paddleAccepts,
  polarAccepts,
  polarParses,
  svixAccepts,
} from '../support/vendorSdks.js';
import { fixture, type Payload } from '../support/webhookFixtures.js';
import {
  chargebeeAuth,
  type Headers,
  lagoKeys,
  newBillingSecret,
  polarSigningSecret,
  signLagoHmac,
  signOrb,
  signPaddle,
  signStandardWebhooks,
} from '../support/webhookSigners.js';
import { webhookSuite } from '../support/webhookSuite.js';

const BILLING = newBillingSecret();
const PADDLE = 'pdl_ntfset_01hv8x29kz0t586xy6zn1a62ny_Yt3kQm9XbQv2Lr8sWp4N';
const CB = { user: 'chargebee-hook', pass: 'cb-pass-7Qw2rT9zX4' };
const LAGO = 'lago_hmac_4f6d2b8a9c1e3f5a7b9d';
const LAGO_KEYS = lagoKeys();
const ORB = 'orb_whsec_Tq8zN3vK5pL2mR7x';
const POLAR = 'polar_whs_m4Kq9vT2xR7pL3nZ8wY5';

const VENDOR_SECRETS = {
  billing: [BILLING],
  paddle: PADDLE,
  chargebee: CB,
  lago: LAGO,
  lagoKeys: LAGO_KEYS,
  orb: ORB,
  polar: POLAR,
};

// The SDKs judge signatures by the real clock: the server's starts each test at it.
const { database, server, clock, startServer } = webhookSuite({ secrets: VENDOR_SECRETS });

type Sign = (raw: string, options: { atMs: number; wrong?: boolean }) => Headers;

interface Step {
  readonly fixture: string;
  readonly edit?: (p: Payload) => Payload;
  readonly row: { name: string; status: string };
}

interface Spec {
  readonly route: string;
  /** The customer's id in `customers` (no BILLING_CUSTOMER_ID_KEY). */
  readonly id: string;
  readonly steps: readonly Step[];
  readonly unknown: string;
  readonly sign: Sign;
  /** The vendor SDK's verdict on a delivery; absent where the SDK has no verifier (Lago). */
  readonly sdkAccepts?: (raw: string, headers: Headers) => boolean | Promise<boolean>;
  /** False where the scheme authenticates the sender but signs no bytes (basic auth). */
  readonly signsBody?: false;
  /** The documented tolerance (s); absent where the scheme signs no timestamp. */
  readonly toleranceS?: number;
}

const SPECS: Record<string, Spec> = {
  paddle: {
    route: '/webhooks/paddle',
    id: 'ctm_01hv8wpts9m8tr5e3bvtfbdbzy',
    steps: [
      { fixture: 'paddle/customer.created', row: { name: 'Sam Miller', status: 'active' } },
      { fixture: 'paddle/subscription.paused', row: { name: 'Sam Miller', status: 'inactive' } },
      { fixture: 'paddle/subscription.resumed', row: { name: 'Sam Miller', status: 'active' } },
      { fixture: 'paddle/customer.updated', row: { name: 'Sam Miller-Jones', status: 'active' } },
      {
        fixture: 'paddle/customer.updated',
        edit: (p) => ({
          ...p,
          event_id: 'evt_01hva0archived0000000000000',
          occurred_at: '2024-04-12T14:00:00Z',
          data: { ...p.data, status: 'archived' },
        }),
        row: { name: 'Sam Miller-Jones', status: 'deleted' },
      },
    ],
    unknown: 'paddle/transaction.completed',
    sign: (raw, { atMs, wrong }) =>
      signPaddle(wrong ? `${PADDLE}x` : PADDLE, raw, Math.floor(atMs / 1000)),
    sdkAccepts: (raw, headers) => paddleAccepts(raw, PADDLE, headers),
    toleranceS: 5,
  },
  chargebee: {
    route: '/webhooks/chargebee',
    id: '16CQtCTrgrYwi9n2E',
    steps: [
      { fixture: 'chargebee/customer_created', row: { name: 'Acme Corp', status: 'active' } },
      { fixture: 'chargebee/subscription_paused', row: { name: 'Acme Corp', status: 'inactive' } },
      { fixture: 'chargebee/subscription_resumed', row: { name: 'Acme Corp', status: 'active' } },
      {
        fixture: 'chargebee/customer_changed',
        row: { name: 'Acme Corporation', status: 'active' },
      },
      {
        fixture: 'chargebee/customer_deleted',
        row: { name: 'Acme Corporation', status: 'deleted' },
      },
    ],
    unknown: 'chargebee/payment_succeeded',
    sign: (_raw, { wrong }) => chargebeeAuth(CB.user, wrong ? `${CB.pass}x` : CB.pass),
    signsBody: false,
    sdkAccepts: (_raw, headers) => chargebeeAccepts(headers, CB.user, CB.pass),
  },
  lago: {
    route: '/webhooks/lago',
    id: 'cust_lago_1',
    steps: [
      { fixture: 'lago/customer.created', row: { name: 'Globex', status: 'active' } },
      { fixture: 'lago/subscription.terminated', row: { name: 'Globex', status: 'inactive' } },
      { fixture: 'lago/subscription.started', row: { name: 'Globex', status: 'active' } },
      { fixture: 'lago/customer.updated', row: { name: 'Globex Corporation', status: 'active' } },
    ],
    unknown: 'lago/invoice.created',
    sign: (raw, { wrong }) => signLagoHmac(wrong ? `${LAGO}x` : LAGO, raw),
  },
  orb: {
    route: '/webhooks/orb',
    id: 'cust_orb_1',
    steps: [
      { fixture: 'orb/customer.created', row: { name: 'Initech', status: 'active' } },
      { fixture: 'orb/subscription.ended', row: { name: 'Initech', status: 'inactive' } },
      { fixture: 'orb/subscription.started', row: { name: 'Initech', status: 'active' } },
      { fixture: 'orb/customer.edited', row: { name: 'Initech Inc', status: 'active' } },
    ],
    unknown: 'orb/invoice.issued',
    sign: (raw, { atMs, wrong }) => signOrb(wrong ? `${ORB}x` : ORB, raw, atMs),
    sdkAccepts: (raw, headers) => orbAccepts(raw, ORB, headers),
    toleranceS: 300,
  },
  polar: {
    route: '/webhooks/polar',
    id: '992fae2a-2a17-4b7a-8d9e-e287cf90131b',
    steps: [
      { fixture: 'polar/customer.created', row: { name: 'Umbrella', status: 'active' } },
      { fixture: 'polar/subscription.revoked', row: { name: 'Umbrella', status: 'inactive' } },
      { fixture: 'polar/subscription.active', row: { name: 'Umbrella', status: 'active' } },
      { fixture: 'polar/customer.updated', row: { name: 'Umbrella Corp', status: 'active' } },
      { fixture: 'polar/customer.deleted', row: { name: 'Umbrella Corp', status: 'deleted' } },
    ],
    unknown: 'polar/order.paid',
    sign: (raw, { atMs, wrong }) =>
      signStandardWebhooks(polarSigningSecret(wrong ? `${POLAR}x` : POLAR), raw, {
        timestamp: Math.floor(atMs / 1000),
      }),
    sdkAccepts: (raw, headers) => polarAccepts(raw, POLAR, headers),
    toleranceS: 300,
  },
  'billing (svix-* headers)': {
    route: '/webhooks/billing',
    id: 'cus_123',
    steps: [
      { fixture: 'billing/customer.created', row: { name: 'Acme Corp', status: 'active' } },
      { fixture: 'billing/customer.deactivated', row: { name: 'Acme Corp', status: 'inactive' } },
      { fixture: 'billing/customer.reactivated', row: { name: 'Acme Corp', status: 'active' } },
      {
        fixture: 'billing/customer.updated',
        edit: (p) => ({ ...p, data: { ...p.data, name: 'Acme Corporation' } }),
        row: { name: 'Acme Corporation', status: 'active' },
      },
      { fixture: 'billing/customer.deleted', row: { name: 'Acme Corporation', status: 'deleted' } },
    ],
    unknown: 'billing/customer.created',
    sign: (raw, { atMs, wrong }) =>
      signStandardWebhooks(wrong ? newBillingSecret() : BILLING, raw, {
        timestamp: Math.floor(atMs / 1000),
        names: 'svix',
      }),
    sdkAccepts: (raw, headers) => svixAccepts(raw, BILLING, headers),
    toleranceS: 300,
  },
};

const customers = async () =>
  (await database.pool.query('select id, name, status from customers order by id')).rows;
const written = async () =>
  (
    await database.pool.query(
      `select (select count(*)::int from customers) as c, (select count(*)::int from webhook_events) as e`,
    )
  ).rows[0];

/** A signed delivery of a step's payload, checked with the vendor's SDK first. */
async function delivery(spec: Spec, payload: Payload, options: { atMs?: number } = {}) {
  const raw = JSON.stringify(payload);
  const headers = spec.sign(raw, { atMs: options.atMs ?? clock.now() });
  if (spec.sdkAccepts) expect(await spec.sdkAccepts(raw, headers)).toBe(true);
  return { raw, headers };
}
const payloadOf = (step: Step) => (step.edit ?? ((p) => p))(fixture(step.fixture));

describe.each(Object.entries(SPECS))('%s', (_name, spec) => {
  const post = (d: { raw: string; headers: Headers }) => server.post(spec.route, d.raw, d.headers);
  const first = spec.steps[0]!;

  it('applies created, subscription and rename events in turn, keyed by our id', async () => {
    for (const step of spec.steps) {
      const answer = await post(await delivery(spec, payloadOf(step)));
      expect(answer, step.fixture).toMatchObject({ status: 200, json: { status: 'applied' } });
      expect(await customers(), step.fixture).toEqual([{ id: spec.id, ...step.row }]);
    }
    expect(server.queue.ids).toEqual(spec.steps.map(() => spec.id));
  });

  it('a wrong signature changes nothing', async () => {
    const raw = JSON.stringify(payloadOf(first));
    const headers = spec.sign(raw, { atMs: clock.now(), wrong: true });
    if (spec.sdkAccepts) expect(await spec.sdkAccepts(raw, headers)).toBe(false);
    expect(await post({ raw, headers })).toMatchObject({ status: 401 });
    if (spec.signsBody !== false) {
      // The right signature over other bytes is refused too.
      const other = await delivery(spec, payloadOf(first));
      const changed = { ...other, raw: other.raw.replace('}', ' }') };
      expect(await post(changed)).toMatchObject({ status: 401 });
    }
    expect(await written()).toEqual({ c: 0, e: 0 });
  });

  it('a stale event changes nothing', async () => {
    if (spec.toleranceS !== undefined) {
      const atMs = clock.now() - (spec.toleranceS + 1) * 1000;
      const raw = JSON.stringify(payloadOf(first));
      const headers = spec.sign(raw, { atMs });
      if (spec.sdkAccepts) expect(await spec.sdkAccepts(raw, headers)).toBe(false);
      expect(await post({ raw, headers })).toMatchObject({ status: 401 });
      expect(await written()).toEqual({ c: 0, e: 0 });
      return;
    }
    // No signed timestamp in this scheme: an event older than what was applied changes nothing.
    const renamed = spec.steps.find((s) => s.row.name !== first.row.name)!;
    await post(await delivery(spec, payloadOf(renamed)));
    const before = await customers();
    const older = payloadOf(first);
    if ('id' in older) older.id = `${older.id}_late`;
    expect(await post(await delivery(spec, older))).toMatchObject({ status: 200 });
    expect(await customers()).toEqual(before);
    expect(before).toEqual([{ id: spec.id, name: renamed.row.name, status: 'active' }]);
  });

  it('a replay changes nothing', async () => {
    const d = await delivery(spec, payloadOf(first));
    expect((await post(d)).json).toEqual({ status: 'applied' });
    const before = await customers();
    expect(await post(d)).toMatchObject({ status: 200, json: { status: 'duplicate' } });
    expect(await customers()).toEqual(before);
    expect(await written()).toEqual({ c: 1, e: 1 });
    expect(server.queue.calls).toHaveLength(1);
  });

  it('an unknown event type answers 200 and changes nothing', async () => {
    const payload = fixture(spec.unknown);
    if (spec.route === '/webhooks/billing') payload.type = 'invoice.paid';
    const answer = await post(await delivery(spec, payload));
    expect(answer).toMatchObject({ status: 200, json: { status: 'ignored' } });
    expect(await customers()).toEqual([]);
    expect(server.queue.calls).toEqual([]);
  });
});

describe('without their variables', () => {
  it('every billing-system route answers 503 and writes nothing', async () => {
    await using bare = await startServer();
    for (const [name, spec] of Object.entries(SPECS)) {
      const d = await delivery(spec, payloadOf(spec.steps[0]!));
      const answer = await bare.post(spec.route, d.raw, d.headers);
      expect(answer, name).toMatchObject({ status: 503, json: { error: expect.any(String) } });
    }
    expect(await written()).toEqual({ c: 0, e: 0 });
  });
});

describe('the recorded payloads are what the SDKs know', () => {
  it('Polar: its SDK verifies and parses the customer fixture', async () => {
    const raw = JSON.stringify(fixture('polar/customer.created'));
    const headers = SPECS.polar!.sign(raw, { atMs: Date.now() });
    expect(polarParses(raw, POLAR, headers)).toMatchObject({
      type: 'customer.created',
      data: { id: '992fae2a-2a17-4b7a-8d9e-e287cf90131b', name: 'Umbrella' },
    });
  });
});
