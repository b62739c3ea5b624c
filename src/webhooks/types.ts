/**
 * Webhooks, as customer-sync sees them once verified and parsed.
 *
 * - **delivery**: one HTTP request from a sender; retries of one event are several deliveries.
 * - **event**, **customer change**: see `core/events.ts`.
 */
import type { IncomingHttpHeaders } from 'node:http';

import type { CustomerEvent } from '../core/events.js';
import type { WebhookSource } from '../metrics.js';

export type { WebhookSource } from '../metrics.js';

export type { CustomerChange } from '../core/events.js';

/** A verified, well-formed event from one of our routes, ready to ingest. */
export type WebhookEvent = CustomerEvent<WebhookSource>;

/**
 * How an event's customer relates to the billing system's own customer id, on a route where the
 * id we act on could come from a field the buyer writes (vendorIdentity.ts).
 * - `establishes`: the event's id for us comes from a field only the merchant's API sets (a Paddle
 *   customer's `custom_data`): vendor customer `vendorCustomerId` is `event.customerId`, remembered.
 * - `resolves`: the event's customer is whoever `vendorCustomerId` is known as (else that id
 *   itself); `claim` is what a buyer-writable field (a Paddle subscription's `custom_data`) says,
 *   refused (422) when it names anyone else. Such an event never teaches the mapping.
 */
export type VendorIdentity =
  | { readonly role: 'establishes'; readonly vendorCustomerId: string }
  | {
      readonly role: 'resolves';
      readonly vendorCustomerId: string;
      readonly claim?: { readonly id: string; readonly where: string };
    };

/** What parsing a verified body gives: an event, or why the body has the wrong shape (422). */
export type ParsedEvent =
  { ok: true; event: WebhookEvent; identity?: VendorIdentity } | { ok: false; error: string };

/**
 * What signature verification gives; `reason` is short and safe to answer and log. `signedAtMs`
 * is the time the signature covers (`webhook-timestamp`, Stripe's `t=`), when the scheme has one:
 * an event claiming to be later than that by more than the tolerance is refused.
 */
export type Verdict = { ok: true; signedAtMs?: number } | { ok: false; reason: string };

/** Checks a delivery's raw bytes and headers at a time (ms since the epoch). */
export type Verifier = (raw: Buffer, headers: IncomingHttpHeaders, nowMs: number) => Verdict;

/** What differs between senders: how a delivery is verified and how its body is read. */
export interface Sender {
  readonly source: WebhookSource;
  readonly path: string;
  /** Undefined when no secret is configured: the route answers 503. */
  readonly verify: Verifier | undefined;
  /** Reads a verified body; the headers give the event id where the sender puts it there. */
  readonly parse: (json: unknown, headers: IncomingHttpHeaders) => ParsedEvent;
}
