/**
 * What a sync job is about: a customer, or an orphan workspace (linked to no customer). Jobs,
 * holds and sync state store it as a key; {@link subjectKey} and {@link parseSubject} are the one
 * encode/decode pair, and {@link isReservedId} is how every door (webhooks, the CLI, the table's
 * change notifications) refuses a customer id that would read as an orphan's key.
 */

export type Subject =
  | { readonly kind: 'customer'; readonly customerId: string }
  | { readonly kind: 'orphan'; readonly workspaceId: string };

/** An orphan's key is this prefix and its workspace id; a customer's key is its id. */
export const ORPHAN_PREFIX = 'workspace:';

export const customerSubject = (customerId: string): Subject => ({ kind: 'customer', customerId });
export const orphanSubject = (workspaceId: string): Subject => ({ kind: 'orphan', workspaceId });

export function subjectKey(subject: Subject): string {
  return subject.kind === 'customer'
    ? subject.customerId
    : `${ORPHAN_PREFIX}${subject.workspaceId}`;
}

export function parseSubject(key: string): Subject {
  return key.startsWith(ORPHAN_PREFIX)
    ? orphanSubject(key.slice(ORPHAN_PREFIX.length))
    : customerSubject(key);
}

/** A customer id that would be mistaken for an orphan's key: refused wherever ids come in. */
export const isReservedId = (customerId: string): boolean => customerId.startsWith(ORPHAN_PREFIX);
