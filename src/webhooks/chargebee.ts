/**
 * Chargebee webhooks (`POST /webhooks/chargebee`).
 *
 * Scheme: Chargebee signs nothing; a webhook is protected by HTTP basic auth with the username and
 * password set on it (Chargebee's "webhook settings"; `basicAuthValidator` in the `chargebee` SDK).
 * Both are compared in constant time (as SHA-256 digests, so their lengths leak nothing either).
 * There is no timestamp to hold a tolerance to: a replay is caught by the event id, and an old
 * event by its `resource_version`.
 *
 * Envelope: the Event resource `{id, occurred_at, event_type, content: {customer?, subscription?}}`.
 * The event id is `id` (`ev_…`, the same on every retry). Ordering: the `resource_version` of the
 * resource the event is about (milliseconds, Chargebee's own ordering of a resource's changes),
 * else `occurred_at`.
 * Our id: the customer's `meta_data[BILLING_CUSTOMER_ID_KEY]` when set, else Chargebee's customer
 * id (`content.customer.id`, or `content.subscription.customer_id`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

import type { Config } from '../config.js';
import {
  changeOf,
  customerIdSchema,
  describeIssue,
  type EventHandler,
  handler,
} from './eventSchemas.js';
import type { Sender, Verdict } from './types.js';
import { single } from './verifyStandard.js';
import {
  eventFrom,
  eventIdSchema,
  fromMetadata,
  metadataSchema,
  ourId,
  withId,
} from './vendorEvents.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Builds the check of `Authorization: Basic …` against the configured credentials. */
export function createChargebeeVerifier(auth: { username: string; password: string }) {
  const user = digest(auth.username);
  const pass = digest(auth.password);
  return (authorization: string | string[] | undefined): Verdict => {
    const value = single(authorization);
    const match = value ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(value.trim()) : null;
    if (!match?.[1]) return { ok: false, reason: 'missing basic auth' };
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'malformed basic auth' };
    // Both compared whatever the first gives, so the time says nothing about which was wrong.
    const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), user);
    const passOk = timingSafeEqual(digest(decoded.slice(colon + 1)), pass);
    return userOk && passOk ? { ok: true } : { ok: false, reason: 'wrong credentials' };
  };
}

const version = z.number().int().min(0).max(253_402_300_799_999).nullish();
const customer = z.object({
  id: customerIdSchema,
  company: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  meta_data: metadataSchema,
  resource_version: version,
});
const subscription = z.object({
  customer_id: customerIdSchema,
  status: z.string(),
  resource_version: version,
});

const envelope = z.object({
  id: eventIdSchema,
  event_type: z.string().min(1).max(255),
  occurred_at: z.number().int().min(0).max(253_402_300_799),
  content: z.record(z.string(), z.unknown()),
});

/** The display name: the company for a business, else the person's name; blank → none. */
function nameOf(c: z.output<typeof customer>): string | undefined {
  const company = c.company?.trim();
  const person = [c.first_name, c.last_name].filter(Boolean).join(' ').trim();
  const name = (company || person).slice(0, 500);
  return name || undefined;
}

/** Subscription status → ours; `future` and `transferred` change nothing. */
const SUBSCRIPTION_STATUS: Readonly<Record<string, 'active' | 'inactive'>> = {
  active: 'active',
  in_trial: 'active',
  non_renewing: 'active',
  paused: 'inactive',
  cancelled: 'inactive',
};

const customerContent = z.object({ customer });
const subscriptionContent = z.object({ subscription, customer: customer.nullish() });

/** Event type → handler (each receives `content`), for a given BILLING_CUSTOMER_ID_KEY. */
export function chargebeeHandlers(key: string | undefined): ReadonlyMap<string, EventHandler> {
  const idOf = (c: z.output<typeof customer>) =>
    ourId(fromMetadata(c.meta_data, key, 'content.customer.meta_data'), c.id);
  const onCustomer = handler(
    customerContent,
    ({ customer: c }) => withId(idOf(c), changeOf(nameOf(c))),
    'content',
  );
  const onDeleted = handler(
    customerContent,
    ({ customer: c }) => withId(idOf(c), { status: 'deleted' }),
    'content',
  );
  const onSubscription = (deleted: boolean) =>
    handler(
      subscriptionContent,
      ({ subscription: s, customer: c }) => {
        const status = deleted ? 'inactive' : SUBSCRIPTION_STATUS[s.status];
        const id = c ? idOf(c) : ourId(undefined, s.customer_id);
        return withId(id, status ? { status } : {});
      },
      'content',
    );
  const byStatus = onSubscription(false);
  return new Map([
    ['customer_created', onCustomer],
    ['customer_changed', onCustomer],
    ['customer_deleted', onDeleted],
    ...[
      'created',
      'started',
      'activated',
      'changed',
      'reactivated',
      'renewed',
      'resumed',
      'paused',
      'cancelled',
    ].map((verb): [string, EventHandler] => [`subscription_${verb}`, byStatus]),
    ['subscription_deleted', onSubscription(true)],
  ]);
}

/** When the event happened: the resource's `resource_version` (ms), else `occurred_at` (s). */
function occurredAt(type: string, content: Record<string, unknown>, occurred: number): Date {
  const resource = type.startsWith('subscription_') ? content.subscription : content.customer;
  const v = version.safeParse(
    (resource as { resource_version?: unknown } | null)?.resource_version,
  );
  return new Date(v.success && v.data ? v.data : occurred * 1000);
}

/** The `/webhooks/chargebee` sender. */
export function chargebeeSender(config: Config): Sender {
  const auth = config.chargebeeWebhookAuth;
  const check = auth ? createChargebeeVerifier(auth) : undefined;
  const handlers = chargebeeHandlers(config.billingCustomerIdKey);
  return {
    source: 'chargebee',
    path: '/webhooks/chargebee',
    verify: check ? (_raw, headers) => check(headers.authorization) : undefined,
    parse: (json) => {
      const env = envelope.safeParse(json);
      if (!env.success) return { ok: false, error: describeIssue(env.error) };
      const { id: eventId, event_type: type, occurred_at: occurred, content } = env.data;
      const base = {
        source: 'chargebee' as const,
        eventId,
        type,
        occurredAt: occurredAt(type, content, occurred),
      };
      return eventFrom(base, handlers.get(type), content);
    },
  };
}
