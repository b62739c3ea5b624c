/**
 * Stripe's events (docs/contract.md, HTTP): the event object `{id, type, created, data: {object}}`.
 * The customer is the Stripe customer id: `data.object.id` for `customer.*`, `data.object.customer`
 * for subscription events. The event id is Stripe's `evt_…`, the same for every retry.
 */
import { z } from 'zod';

import {
  changeOf,
  customerIdSchema,
  describeIssue,
  type EventHandler,
  handler,
  nameSchema,
} from './eventSchemas.js';
import type { ParsedEvent } from './types.js';

const envelope = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  /** Seconds since the epoch; bounded so it is a valid date. */
  created: z.number().int().min(0).max(253_402_300_799),
  data: z.object({ object: z.unknown() }),
});

const customer = z.object({ id: customerIdSchema, name: nameSchema.nullish() });

/** `customer` is an id, or the expanded customer object when an integration asked for it. */
const subscription = z.object({
  customer: z.union([customerIdSchema, z.object({ id: customerIdSchema })]),
});
const subscriber = (s: z.output<typeof subscription>) =>
  typeof s.customer === 'string' ? s.customer : s.customer.id;

const onSubscription = (status: 'active' | 'inactive'): EventHandler =>
  handler(subscription, (s) => ({ customerId: subscriber(s), change: { status } }), 'data.object');

/**
 * Event type → handler. A Stripe customer may have no name: such a create or update sets nothing
 * and is answered `ignored` (a 422 would have Stripe retry it for three days to no end).
 */
export const STRIPE_HANDLERS: ReadonlyMap<string, EventHandler> = new Map([
  [
    'customer.created',
    handler(customer, (c) => ({ customerId: c.id, change: changeOf(c.name) }), 'data.object'),
  ],
  [
    'customer.updated',
    handler(customer, (c) => ({ customerId: c.id, change: changeOf(c.name) }), 'data.object'),
  ],
  [
    'customer.deleted',
    handler(customer, (c) => ({ customerId: c.id, change: { status: 'deleted' } }), 'data.object'),
  ],
  ['customer.subscription.created', onSubscription('active')],
  ['customer.subscription.resumed', onSubscription('active')],
  ['customer.subscription.paused', onSubscription('inactive')],
  ['customer.subscription.deleted', onSubscription('inactive')],
]);

/** Reads a verified Stripe body. Unknown types are recorded and answered `ignored`. */
export function parseStripeEvent(json: unknown): ParsedEvent {
  const env = envelope.safeParse(json);
  if (!env.success) return { ok: false, error: describeIssue(env.error) };
  const { id: eventId, type, created } = env.data;
  const base = { source: 'stripe' as const, eventId, type, occurredAt: new Date(created * 1000) };
  const handle = STRIPE_HANDLERS.get(type);
  if (!handle) return { ok: true, event: { ...base, customerId: null, change: null } };
  const result = handle(env.data.data.object);
  if (!result.ok) return result;
  const { customerId, change } = result.mapped;
  return { ok: true, event: { ...base, customerId, change } };
}
