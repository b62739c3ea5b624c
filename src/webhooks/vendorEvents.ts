/**
 * What every billing system's route shares once its own scheme has verified a delivery: which id
 * is ours, the normalized event, and the constant-time
 * comparison of signatures. Each vendor's file (paddle.ts, chargebee.ts, lago.ts, orb.ts,
 * polar.ts) is only its scheme, its envelope and its handler map.
 */
import { timingSafeEqual } from 'node:crypto';

import { z } from 'zod';

import { customerIdSchema, type EventHandler, type Mapped, type Mapping } from './eventSchemas.js';
import type { ParsedEvent, WebhookSource } from './types.js';

/** A sender's event id: the dedupe key with the source, bounded like a customer id. */
export const eventIdSchema = customerIdSchema;

/** A free-form metadata object (Paddle `custom_data`, Chargebee `meta_data`, Polar `metadata`). */
export const metadataSchema = z.record(z.string(), z.unknown()).nullish();

/**
 * Which id is ours: the id the billing system carries for the customer's id in your system when
 * there is one (`carried`), else the billing system's own id. A carried value that is not a usable
 * id is refused rather than passed over: falling back would split one customer into two rows.
 */
export function ourId(
  carried: { readonly value: unknown; readonly where: string } | undefined,
  own: string,
): { id: string } | { error: string } {
  if (carried === undefined || carried.value === undefined || carried.value === null) {
    return { id: own };
  }
  const value = typeof carried.value === 'number' ? String(carried.value) : carried.value;
  const parsed = customerIdSchema.safeParse(value);
  return parsed.success
    ? { id: parsed.data }
    : { error: `${carried.where}: not a usable customer id` };
}

/** The metadata value under `key` (BILLING_CUSTOMER_ID_KEY), located for error messages. */
export const fromMetadata = (
  metadata: Record<string, unknown> | null | undefined,
  key: string | undefined,
  where: string,
): { value: unknown; where: string } | undefined =>
  key && metadata ? { value: metadata[key], where: `${where}.${key}` } : undefined;

/** Applies `map` to an id decision: a refusal passes through, an id becomes a mapping. */
export const withId = (
  decided: { id: string } | { error: string },
  change: Mapped['change'],
): Mapping => ('error' in decided ? decided : { customerId: decided.id, change });

/** The common tail: an unknown type is a valid event with no change (answered `ignored`). */
export function eventFrom(
  base: {
    readonly source: WebhookSource;
    readonly eventId: string;
    readonly type: string;
    readonly occurredAt: Date;
  },
  handle: EventHandler | undefined,
  payload: unknown,
): ParsedEvent {
  if (!handle) return { ok: true, event: { ...base, customerId: null, change: null } };
  const result = handle(payload);
  if (!result.ok) return result;
  const { customerId, change, identity } = result.mapped;
  return { ok: true, event: { ...base, customerId, change }, ...(identity ? { identity } : {}) };
}

/** True when any offered signature equals the expected one, each compared in constant time. */
export function anyMatches(expected: Buffer, offered: readonly Buffer[]): boolean {
  let found = false;
  for (const sig of offered) {
    // Lengths are public (the digest's size); the bytes are compared without early exit.
    if (sig.length === expected.length && timingSafeEqual(sig, expected)) found = true;
  }
  return found;
}
