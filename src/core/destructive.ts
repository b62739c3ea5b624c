/**
 * What "destructive" means, in one place (docs/design.md §5): which changes pass the gate, the
 * mass-change limit they are counted against, and whether a held one is still called for. Pure,
 * no I/O. The rule has two forms, side by side here: {@link isDestructive} for a change in memory
 * and {@link destructiveSql} for a row of `sweep_changes`; `test/integration/destructive-rule.test.ts`
 * checks that they agree on every action and `from`.
 *
 * A destructive change is a deactivation, a delete, or the re-creation of a workspace that went
 * missing (a create whose `from` is {@link MISSING}): a wrong URL or an API answering 404 for
 * everything must not mint a fleet any more than it may deactivate one.
 */
import { type Action, type Change, MISSING } from './types.js';

/** The actions that are always destructive. */
export const DESTRUCTIVE_ACTIONS: ReadonlySet<Action> = new Set(['deactivate', 'delete']);

/** Every action a held change can have: the destructive ones, and a re-creation's `create`. */
export const GATED_ACTIONS = ['deactivate', 'delete', 'create'] as const;
export type GatedAction = (typeof GATED_ACTIONS)[number];

/** Whether a change passes the destructive gate. */
export const isDestructive = (change: Pick<Change, 'action' | 'from'>): boolean =>
  DESTRUCTIVE_ACTIONS.has(change.action) || (change.action === 'create' && change.from === MISSING);

/**
 * {@link isDestructive} as a SQL condition over a row with `action` and `from_state` columns (a
 * row of `sweep_changes`), under the table alias `alias`. Built from the same constants.
 */
export function destructiveSql(alias: string): string {
  const actions = [...DESTRUCTIVE_ACTIONS].map((a) => `'${a}'`).join(', ');
  return `(${alias}.action in (${actions}) or (${alias}.action = 'create' and ${alias}.from_state = '${MISSING}'))`;
}

/** The mass-change limit's settings (`MAX_DESTRUCTIVE_PER_SWEEP`, `MAX_DESTRUCTIVE_SHARE`). */
export interface MassChangeLimit {
  readonly maxDestructivePerSweep: number;
  readonly maxDestructiveShare: number;
}

/** The mass-change limit: true when `destructive` exceeds both the count and the share. */
export function exceedsDestructiveLimit(
  destructive: number,
  linkedCount: number,
  limit: MassChangeLimit,
): boolean {
  return (
    destructive > limit.maxDestructivePerSweep &&
    destructive > limit.maxDestructiveShare * linkedCount
  );
}

/**
 * Whether a customer's current status still calls for a held change (what an approval checks
 * before releasing it): a deactivation while the customer is not active, a delete while it is
 * deleted (or gone from the source), a re-creation while it is not deleted.
 */
export function statusCallsFor(
  status: 'active' | 'inactive' | 'deleted',
  action: GatedAction,
): boolean {
  if (action === 'deactivate') return status !== 'active';
  if (action === 'delete') return status === 'deleted';
  return status !== 'deleted';
}
