/**
 * Whose workspace an event changes, where a field the buyer can write might say (docs/design.md §5: a
 * field a buyer can write does not choose whose workspace changes).
 *
 * Per route, the id we act on comes from:
 * - billing, Stripe: the sender's own customer id (`data.id`; Stripe's `cus_…`), which no buyer
 *   chooses. Stripe's subscription `metadata` is never read.
 * - Paddle: a customer event's `custom_data[BILLING_CUSTOMER_ID_KEY]`, else its `ctm_…` id. Only
 *   the merchant's API sets a customer's `custom_data` (Paddle.js has no such parameter), so that
 *   event is trusted and teaches the mapping `ctm_…` → our id (`vendor_customers`). A
 *   subscription's `custom_data` is copied from the checkout's `customData`, which the buyer's
 *   browser sets (Paddle.js `Checkout.open` / `updateCheckout`): a subscription event is resolved
 *   through its `ctm_…` id and never teaches the mapping; its `custom_data`, when it carries the
 *   key, must name that same customer, or the event is refused (422). Without a mapping the
 *   `ctm_…` id stands for itself, so a claim naming anyone else is refused too (Paddle retries a
 *   422; once the customer event has arrived, the retry goes through).
 * - Chargebee: the customer's `meta_data[BILLING_CUSTOMER_ID_KEY]`, else Chargebee's id.
 *   `meta_data` is set only through the API (neither the hosted checkout's nor Chargebee.js's
 *   `setCustomer` parameters include it); subscription `meta_data` is never read.
 * - Lago, Orb: the external customer id, which the merchant's backend sets through the API.
 * - Polar: the customer's `metadata[BILLING_CUSTOMER_ID_KEY]`, else `external_id`, else Polar's
 *   id. Both are set only by a checkout session created with the merchant's token
 *   (`customer_metadata`, `external_customer_id`) or the customers API; the buyer's side of a
 *   checkout (`CheckoutUpdatePublic`) cannot set them, and a Checkout Link's query parameters
 *   (`reference_id`, `utm_*`) go to the checkout's own `metadata`, which is never read.
 */
import type pg from 'pg';

import { rememberVendorCustomer, vendorCustomerOf } from '../sql/vendorCustomers.js';
import type { VendorIdentity, WebhookEvent } from './types.js';

/** The event with its customer settled, or why it is refused (422, nothing written). */
export type Settled = { readonly event: WebhookEvent } | { readonly error: string };

/**
 * Settles an event's customer: a trusted event's mapping is remembered (before the event is
 * recorded: a mapping is a fact from the vendor whatever becomes of the event, and remembering it
 * twice writes nothing); a buyer-writable claim is checked against the mapping.
 */
export async function settleIdentity(
  db: Pick<pg.Pool, 'query'>,
  event: WebhookEvent,
  identity: VendorIdentity | undefined,
  now: Date,
): Promise<Settled> {
  if (!identity) return { event };
  const { vendorCustomerId } = identity;
  if (identity.role === 'establishes') {
    if (event.customerId !== null) {
      const { source, eventId, occurredAt, customerId } = event;
      await rememberVendorCustomer(
        db,
        { source, vendorCustomerId, customerId, eventId, occurredAt },
        now,
      );
    }
    return { event };
  }
  const known = (await vendorCustomerOf(db, event.source, vendorCustomerId)) ?? vendorCustomerId;
  if (identity.claim && identity.claim.id !== known) {
    return {
      error: `${identity.claim.where} names another customer than ${vendorCustomerId} is known as`,
    };
  }
  return { event: { ...event, customerId: known } };
}
