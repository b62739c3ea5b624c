/**
 * Orb webhooks (`POST /webhooks/orb`).
 *
 * Scheme (Orb's webhooks guide; `Webhooks.verifySignature` in `orb-billing`):
 * `X-Orb-Signature: v1=<hex>` (several space-separated), each the HMAC-SHA256 of
 * `v1:${X-Orb-Timestamp}:${rawBody}` keyed with the endpoint's secret as UTF-8;
 * `X-Orb-Timestamp` is ISO 8601, UTC when it names no zone. Tolerance: 5 minutes either way
 * (the SDK's `webhookToleranceInSeconds`).
 *
 * Envelope: `{id, created_at, type, <resource>: {...}, properties}`; the event id is `id`.
 * Our id: the customer's `external_customer_id` when set (the id in your system), else Orb's
 * customer id.
 */
import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

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
import { SIGNATURE_TOLERANCE_SECONDS, single } from './verifyStandard.js';
import { anyMatches, eventFrom, eventIdSchema } from './vendorEvents.js';

/** Checks `X-Orb-Signature` / `X-Orb-Timestamp` against the raw body at a time (ms). */
export function verifyOrbSignature(
  raw: Buffer,
  headers: IncomingHttpHeaders,
  secret: string,
  nowMs: number,
): Verdict {
  const timestamp = single(headers['x-orb-timestamp']);
  const signatures = single(headers['x-orb-signature']);
  if (!timestamp || !signatures) return { ok: false, reason: 'missing X-Orb headers' };
  if (timestamp.length > 40) return { ok: false, reason: 'invalid X-Orb-Timestamp' };
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(timestamp) ? timestamp : `${timestamp}Z`;
  const at = Date.parse(zoned);
  if (Number.isNaN(at)) return { ok: false, reason: 'invalid X-Orb-Timestamp' };
  // The signed string holds the header exactly as sent, not a normalised time.
  const expected = createHmac('sha256', secret).update(`v1:${timestamp}:`).update(raw).digest();
  const offered = signatures
    .split(' ')
    .filter((s) => /^v1=[0-9a-f]{64}$/i.test(s))
    .map((s) => Buffer.from(s.slice(3), 'hex'));
  if (!anyMatches(expected, offered)) return { ok: false, reason: 'no matching signature' };
  if (Math.abs(nowMs - at) / 1000 > SIGNATURE_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'timestamp outside tolerance' };
  }
  return { ok: true, signedAtMs: at };
}

const customer = z.object({
  id: customerIdSchema,
  external_customer_id: customerIdSchema.nullish(),
  name: nameSchema.nullish(),
});
const ourId = (c: z.output<typeof customer>) => c.external_customer_id ?? c.id;

/** Event type → handler (each receives the whole body). */
export const ORB_HANDLERS: ReadonlyMap<string, EventHandler> = new Map([
  ...['customer.created', 'customer.edited'].map((type): [string, EventHandler] => [
    type,
    handler(
      z.object({ customer }),
      ({ customer: c }) => ({ customerId: ourId(c), change: changeOf(c.name) }),
      '',
    ),
  ]),
  ...(
    [
      ['subscription.started', 'active'],
      ['subscription.ended', 'inactive'],
    ] as const
  ).map(([type, status]): [string, EventHandler] => [
    type,
    handler(
      z.object({ subscription: z.object({ customer }) }),
      ({ subscription: s }) => ({ customerId: ourId(s.customer), change: { status } }),
      '',
    ),
  ]),
]);

const envelope = z.looseObject({
  id: eventIdSchema,
  type: z.string().min(1).max(255),
  created_at: z.iso.datetime({ offset: true }),
});

/** The `/webhooks/orb` sender. */
export function orbSender(config: Config): Sender {
  const secret = config.orbWebhookSecret;
  return {
    source: 'orb',
    path: '/webhooks/orb',
    verify: secret
      ? (raw, headers, now) => verifyOrbSignature(raw, headers, secret, now)
      : undefined,
    parse: (json) => {
      const env = envelope.safeParse(json);
      if (!env.success) return { ok: false, error: describeIssue(env.error) };
      const { id: eventId, type, created_at: at } = env.data;
      const base = { source: 'orb' as const, eventId, type, occurredAt: new Date(at) };
      return eventFrom(base, ORB_HANDLERS.get(type), env.data);
    },
  };
}
