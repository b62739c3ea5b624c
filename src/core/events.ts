/**
 * Events about a customer from a billing system, once verified and parsed: what the webhook
 * routes produce and the event tables record.
 *
 * - **event**: what happened, with the sender's id (`webhook-id`, Stripe's `evt_…`) and time.
 * - **customer change**: the fields of `customers` an event sets; absent fields stay as they are.
 */
import type { CustomerStatus } from './types.js';

/** The fields of a `customers` row one event sets. */
export interface CustomerChange {
  readonly name?: string;
  readonly status?: CustomerStatus;
}

/** A verified, well-formed event, ready to ingest. */
export interface CustomerEvent<Source extends string = string> {
  /** Which sender (route) it came from. */
  readonly source: Source;
  /** The sender's event id: the dedupe key together with `source`. */
  readonly eventId: string;
  readonly type: string;
  /** When the event happened by the sender's clock: the ordering key per customer. */
  readonly occurredAt: Date;
  /** Null only for a type we do not act on whose payload names no customer. */
  readonly customerId: string | null;
  /** Null for a type we do not act on: recorded and answered `ignored`. */
  readonly change: CustomerChange | null;
  /**
   * SHA-256 of the delivery's signed bytes (its raw body), when it came over HTTP: a second
   * delivery of the same bytes to the same route is a duplicate whatever id it carries.
   */
  readonly bodyDigest?: Buffer;
}
