/**
 * `POST /webhooks/billing`: events in customer-sync's own, generic format (docs/contract.md, HTTP),
 * for a billing system with no route of its own (the six others have theirs: stripe.ts, paddle.ts,
 * …). An envelope `{type, timestamp, data}` whose `data` is `{id, name?, status?}`, delivered with
 * Standard Webhooks headers. The event id is the `webhook-id` header (the same for every retry of
 * one event).
 */
import { z } from 'zod';

import {
  changeOf,
  customerIdSchema,
  describeIssue,
  type EventHandler,
  handler,
  nameSchema,
  statusSchema,
} from './eventSchemas.js';
import type { ParsedEvent } from './types.js';

const envelope = z.object({
  type: z.string().min(1).max(255),
  timestamp: z.iso.datetime({ offset: true }),
  data: z.unknown(),
});

const data = z.object({
  id: customerIdSchema,
  name: nameSchema.optional(),
  status: statusSchema.optional(),
});

/** Event type → handler. The type decides the status where it names one; `data.status` may not. */
export const GENERIC_HANDLERS: ReadonlyMap<string, EventHandler> = new Map([
  [
    'customer.created',
    handler(
      data.extend({ name: nameSchema }),
      (d) => ({ customerId: d.id, change: changeOf(d.name, d.status) }),
      'data',
    ),
  ],
  [
    'customer.updated',
    handler(data, (d) => ({ customerId: d.id, change: changeOf(d.name, d.status) }), 'data'),
  ],
  [
    'customer.deactivated',
    handler(data, (d) => ({ customerId: d.id, change: changeOf(d.name, 'inactive') }), 'data'),
  ],
  [
    'customer.reactivated',
    handler(data, (d) => ({ customerId: d.id, change: changeOf(d.name, 'active') }), 'data'),
  ],
  [
    'customer.deleted',
    // A name on a delete is not applied: a deleted customer's row is not worth creating.
    handler(data, (d) => ({ customerId: d.id, change: { status: 'deleted' } }), 'data'),
  ],
]);

/**
 * Reads a verified billing body. Unknown types are valid events with no change (recorded and
 * answered `ignored`), so a sender adding types is not retried for days.
 */
export function parseGenericEvent(json: unknown, eventId: string): ParsedEvent {
  const env = envelope.safeParse(json);
  if (!env.success) return { ok: false, error: describeIssue(env.error) };
  if (eventId.length > 255) return { ok: false, error: 'webhook-id: too long' };
  const { type, timestamp } = env.data;
  const base = { source: 'billing' as const, eventId, type, occurredAt: new Date(timestamp) };
  const handle = GENERIC_HANDLERS.get(type);
  if (!handle) {
    const id = customerIdSchema.safeParse((env.data.data as { id?: unknown } | null)?.id);
    return { ok: true, event: { ...base, customerId: id.success ? id.data : null, change: null } };
  }
  const result = handle(env.data.data);
  if (!result.ok) return result;
  const { customerId, change } = result.mapped;
  return { ok: true, event: { ...base, customerId, change } };
}
