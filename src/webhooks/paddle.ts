/**
 * Paddle Billing notifications (`POST /webhooks/paddle`).
 *
 * Scheme (Paddle's "verify webhook signatures" guide; `WebhooksValidator` in
 * `@paddle/paddle-node-sdk`): `Paddle-Signature: ts=<unix seconds>;h1=<hex>`, `h1` the
 * HMAC-SHA256 of `${ts}:${rawBody}` keyed with the destination's secret key as is. Several `h1`
 * may be sent while a secret is rotated; any one matching is enough. Tolerance: 5 seconds, the
 * SDK's `MAX_VALID_TIME_DIFFERENCE` (applied both ways here, so a future `ts` is no loophole).
 *
 * Envelope: `{event_id, event_type, occurred_at, notification_id, data}`. The event id is
 * `event_id` (the same on every retry; `notification_id` differs per destination).
 * Our id: for a customer event, its `custom_data[BILLING_CUSTOMER_ID_KEY]` when set (only the
 * merchant's API sets a customer's `custom_data`), else Paddle's `ctm_…` id (`data.id`). For a
 * subscription event, whoever its `ctm_…` id (`data.customer_id`) was last said to be by a customer
 * event; its own `custom_data`, which the buyer writes at checkout, must agree or it is refused.
 */
import { createHmac } from 'node:crypto';

import { z } from 'zod';

import type { Config } from '../config.js';
import {
  changeOf,
  customerIdSchema,
  describeIssue,
  type EventHandler,
  handler,
  nameSchema,
} from './eventSchemas.js';
import type { Sender, Verdict } from './types.js';
import { single } from './verifyStandard.js';
import {
  anyMatches,
  eventFrom,
  eventIdSchema,
  fromMetadata,
  metadataSchema,
  ourId,
  withId,
} from './vendorEvents.js';

/** Paddle's documented tolerance between `ts` and now. */
export const PADDLE_TOLERANCE_SECONDS = 5;

/** Checks `Paddle-Signature` against the raw body at a time (ms). */
export function verifyPaddleSignature(
  raw: Buffer,
  header: string | string[] | undefined,
  secret: string,
  nowMs: number,
): Verdict {
  const value = single(header);
  if (!value) return { ok: false, reason: 'missing Paddle-Signature' };
  let ts: string | undefined;
  const offered: Buffer[] = [];
  for (const part of value.split(';')) {
    const [key, val] = part.split('=', 2).map((s) => s.trim());
    if (key === 'ts') ts = val;
    if (key === 'h1' && val && /^[0-9a-f]{64}$/i.test(val)) offered.push(Buffer.from(val, 'hex'));
  }
  if (!ts || !/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'invalid Paddle-Signature ts' };
  const expected = createHmac('sha256', secret).update(`${ts}:`).update(raw).digest();
  if (!anyMatches(expected, offered)) return { ok: false, reason: 'no matching signature' };
  if (Math.abs(nowMs / 1000 - Number(ts)) > PADDLE_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'timestamp outside tolerance' };
  }
  return { ok: true, signedAtMs: Number(ts) * 1000 };
}

const envelope = z.object({
  event_id: eventIdSchema,
  event_type: z.string().min(1).max(255),
  occurred_at: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

const customer = z.object({
  id: customerIdSchema,
  name: nameSchema.nullish(),
  status: z.string().nullish(),
  custom_data: metadataSchema,
});

const subscription = z.object({
  customer_id: customerIdSchema,
  status: z.string(),
  custom_data: metadataSchema,
});

/** Subscription status → ours; `past_due` (dunning) changes nothing until Paddle decides. */
const SUBSCRIPTION_STATUS: Readonly<Record<string, 'active' | 'inactive'>> = {
  active: 'active',
  trialing: 'active',
  paused: 'inactive',
  canceled: 'inactive',
};

/**
 * Event type → handler, for a given BILLING_CUSTOMER_ID_KEY. With a key, a customer event teaches
 * which of ours its `ctm_…` id is (a customer's `custom_data` is set only through Paddle's API),
 * and a subscription event is resolved through that: its `custom_data` comes from the checkout's
 * `customData`, which the buyer's browser sets, so it may only agree (see vendorIdentity.ts).
 */
export function paddleHandlers(key: string | undefined): ReadonlyMap<string, EventHandler> {
  // Paddle customers are archived, never deleted: an archived customer is a deleted one here.
  const onCustomer = handler(
    customer,
    (c) => {
      const decided = ourId(fromMetadata(c.custom_data, key, 'data.custom_data'), c.id);
      const mapped = withId(
        decided,
        changeOf(c.name, c.status === 'archived' ? 'deleted' : undefined),
      );
      if ('error' in mapped || !key) return mapped;
      return { ...mapped, identity: { role: 'establishes', vendorCustomerId: c.id } };
    },
    'data',
  );
  const onSubscription = handler(
    subscription,
    (s) => {
      const status = SUBSCRIPTION_STATUS[s.status];
      const change = status ? { status } : {};
      if (!key) return { customerId: s.customer_id, change };
      const carried = fromMetadata(s.custom_data, key, 'data.custom_data');
      const claimed = ourId(carried, s.customer_id);
      if ('error' in claimed) return claimed;
      const claim =
        carried && carried.value !== undefined && carried.value !== null
          ? { id: claimed.id, where: carried.where }
          : undefined;
      const identity = { role: 'resolves' as const, vendorCustomerId: s.customer_id };
      // The customer id is settled by resolution; until then it is Paddle's own.
      return {
        customerId: s.customer_id,
        change,
        identity: claim ? { ...identity, claim } : identity,
      };
    },
    'data',
  );
  return new Map([
    ['customer.created', onCustomer],
    ['customer.updated', onCustomer],
    ['customer.imported', onCustomer],
    ...[
      'created',
      'activated',
      'updated',
      'trialing',
      'paused',
      'resumed',
      'canceled',
      'past_due',
      'imported',
    ].map((verb): [string, EventHandler] => [`subscription.${verb}`, onSubscription]),
  ]);
}

/** The `/webhooks/paddle` sender. */
export function paddleSender(config: Config): Sender {
  const secret = config.paddleWebhookSecret;
  const handlers = paddleHandlers(config.billingCustomerIdKey);
  return {
    source: 'paddle',
    path: '/webhooks/paddle',
    verify: secret
      ? (raw, headers, now) => verifyPaddleSignature(raw, headers['paddle-signature'], secret, now)
      : undefined,
    parse: (json) => {
      const env = envelope.safeParse(json);
      if (!env.success) return { ok: false, error: describeIssue(env.error) };
      const { event_id: eventId, event_type: type, occurred_at: at, data } = env.data;
      const base = { source: 'paddle' as const, eventId, type, occurredAt: new Date(at) };
      return eventFrom(base, handlers.get(type), data);
    },
  };
}
