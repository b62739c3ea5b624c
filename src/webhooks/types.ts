/**
 * Webhooks, as customer-sync sees them once verified and parsed.
 *
 * - **delivery**: one HTTP request from a sender; retries of one event are several deliveries.
 * - **event**: what happened, with the sender's id (`webhook-id`, Stripe's `evt_…`) and time.
 * - **customer change**: the fields of `customers` an event sets; absent fields stay as they are.
 */
import type { IncomingHttpHeaders } from 'node:http';

import type { CustomerStatus } from '../core/types.js';
import type { WebhookSource } from '../metrics.js';

export type { WebhookSource } from '../metrics.js';

/** The fields of a `customers` row one event sets. */
export interface CustomerChange {
  readonly name?: string;
  readonly status?: CustomerStatus;
}

/** A verified, well-formed event, ready to ingest. */
export interface WebhookEvent {
  readonly source: WebhookSource;
  /** The sender's event id: the dedupe key together with `source`. */
  readonly eventId: string;
  readonly type: string;
  /** When the event happened by the sender's clock: the ordering key per customer. */
  readonly occurredAt: Date;
  /** Null only for a type we do not act on whose payload names no customer. */
  readonly customerId: string | null;
  /** Null for a type we do not act on: recorded and answered `ignored`. */
  readonly change: CustomerChange | null;
}

/** What parsing a verified body gives: an event, or why the body has the wrong shape (422). */
export type ParsedEvent = { ok: true; event: WebhookEvent } | { ok: false; error: string };

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
