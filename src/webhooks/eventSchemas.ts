/**
 * The pieces every event handler is built from: bounded field schemas, and `handler()`, which
 * turns a payload schema and a small mapping into one entry of a source's handler map
 * (HOUSE_STYLE §8: a map of small handlers, not a switch).
 */
import { z } from 'zod';

import type { CustomerStatus } from '../core/types.js';
import type { CustomerChange, VendorIdentity } from './types.js';

/** Postgres text cannot hold NUL; such a value is the sender's mistake (422), not ours (500). */
const noNul = (s: string) => !s.includes('\u0000');

/** A customer id: bounded so it always fits a btree key. */
export const customerIdSchema = z.string().min(1).max(255).refine(noNul, 'must not contain NUL');

/**
 * A display name: non-blank, and short enough for `customers_name_idx` (a btree entry holds about
 * 2,700 bytes; 500 characters of UTF-8 are at most 2,000).
 */
export const nameSchema = z
  .string()
  .max(500)
  .refine((s) => s.trim().length > 0, 'must not be blank')
  .refine(noNul, 'must not contain NUL');

/** A customer status as `customers` stores it. */
export const statusSchema = z.enum(['active', 'inactive', 'deleted']);

/** One event's effect: which customer, and what to set. */
export interface Mapped {
  readonly customerId: string;
  readonly change: CustomerChange;
  /** How the customer relates to the sender's own customer id, where that matters. */
  readonly identity?: VendorIdentity;
}

/** One entry of a handler map: a payload in, a customer change or a 422 reason out. */
export type EventHandler = (
  data: unknown,
) => { ok: true; mapped: Mapped } | { ok: false; error: string };

/** A mapping that names the customer and the change, or says why the payload cannot be used. */
export type Mapping = Mapped | { readonly error: string };

/**
 * Builds a handler from the payload's schema and a mapping from the parsed payload; the mapping
 * itself may refuse (an unusable id in metadata: 422).
 */
export function handler<S extends z.ZodType>(
  schema: S,
  map: (data: z.output<S>) => Mapping,
  root: string,
): EventHandler {
  return (data) => {
    const parsed = schema.safeParse(data);
    if (!parsed.success) return { ok: false, error: describeIssue(parsed.error, root) };
    const mapped = map(parsed.data);
    return 'error' in mapped ? { ok: false, error: mapped.error } : { ok: true, mapped };
  };
}

/** The first problem, as `path: message`, short enough for a JSON error answer. */
export function describeIssue(error: z.ZodError, root = ''): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid payload';
  const path = [root, ...issue.path.map(String)].filter(Boolean).join('.');
  const text = path ? `${path}: ${issue.message}` : issue.message;
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

/** A change with only the fields given: an absent or null name never overwrites a column. */
export function changeOf(name: string | null | undefined, status?: CustomerStatus): CustomerChange {
  return {
    ...(name !== undefined && name !== null ? { name } : {}),
    ...(status !== undefined ? { status } : {}),
  };
}

/** True when the change sets nothing (such events are recorded and answered `ignored`). */
export const isEmptyChange = (change: CustomerChange): boolean =>
  change.name === undefined && change.status === undefined;
