/**
 * Polar webhooks (`POST /webhooks/polar`).
 *
 * Scheme: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), tolerance
 * 5 minutes either way. Polar's secret is used as its UTF-8 bytes, not base64-decoded: Polar's SDK
 * (`validateEvent` in `@polar-sh/sdk/webhooks`) base64-encodes it before handing it to
 * `standardwebhooks`, and so does this route.
 *
 * Envelope: `{type, timestamp, data}`; the event id is `webhook-id`. Our id: the customer's
 * `metadata[BILLING_CUSTOMER_ID_KEY]` when set, else its `external_id` (Polar's field for the id in
 * your system), else Polar's customer id.
 */
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
import type { Sender } from './types.js';
import { createStandardVerifier, standardHeaders } from './verifyStandard.js';
import {
  eventFrom,
  eventIdSchema,
  fromMetadata,
  metadataSchema,
  ourId,
  withId,
} from './vendorEvents.js';

const customer = z.object({
  id: customerIdSchema,
  external_id: customerIdSchema.nullish(),
  name: nameSchema.nullish(),
  metadata: metadataSchema,
});
const subscription = z.object({ status: z.string(), customer });

/** Subscription status → ours; `incomplete` and `past_due` change nothing. */
const SUBSCRIPTION_STATUS: Readonly<Record<string, 'active' | 'inactive'>> = {
  active: 'active',
  trialing: 'active',
  canceled: 'inactive',
  unpaid: 'inactive',
  incomplete_expired: 'inactive',
  paused: 'inactive',
};

/** Event type → handler (each receives `data`), for a given BILLING_CUSTOMER_ID_KEY. */
export function polarHandlers(key: string | undefined): ReadonlyMap<string, EventHandler> {
  const idOf = (c: z.output<typeof customer>, where: string) =>
    ourId(fromMetadata(c.metadata, key, `${where}.metadata`), c.external_id ?? c.id);
  const onCustomer = handler(customer, (c) => withId(idOf(c, 'data'), changeOf(c.name)), 'data');
  const onDeleted = handler(
    customer,
    (c) => withId(idOf(c, 'data'), { status: 'deleted' }),
    'data',
  );
  // A cancellation at period end keeps `status: active` until Polar revokes the subscription.
  const onSubscription = handler(
    subscription,
    (s) => {
      const status = SUBSCRIPTION_STATUS[s.status];
      return withId(idOf(s.customer, 'data.customer'), status ? { status } : {});
    },
    'data',
  );
  return new Map([
    ['customer.created', onCustomer],
    ['customer.updated', onCustomer],
    ['customer.deleted', onDeleted],
    ...['created', 'active', 'updated', 'canceled', 'uncanceled', 'revoked', 'past_due'].map(
      (verb): [string, EventHandler] => [`subscription.${verb}`, onSubscription],
    ),
  ]);
}

const envelope = z.object({
  type: z.string().min(1).max(255),
  timestamp: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

/** The `/webhooks/polar` sender. */
export function polarSender(config: Config): Sender {
  const secret = config.polarWebhookSecret;
  const handlers = polarHandlers(config.billingCustomerIdKey);
  return {
    source: 'polar',
    path: '/webhooks/polar',
    verify: secret
      ? createStandardVerifier([Buffer.from(secret, 'utf8').toString('base64')])
      : undefined,
    parse: (json, headers) => {
      const env = envelope.safeParse(json);
      if (!env.success) return { ok: false, error: describeIssue(env.error) };
      const id = eventIdSchema.safeParse(standardHeaders(headers).id);
      if (!id.success) return { ok: false, error: 'webhook-id: too long' };
      const { type, timestamp, data } = env.data;
      const base = {
        source: 'polar' as const,
        eventId: id.data,
        type,
        occurredAt: new Date(timestamp),
      };
      return eventFrom(base, handlers.get(type), data);
    },
  };
}
