/**
 * The customers source's outage (docs/design.md §5: nothing from outside decides a destructive change
 * on its own say-so). A source that suddenly returns no rows, or far fewer, is an outage until a
 * person says otherwise, whatever the fleet's size; pure decisions, no I/O.
 */

/**
 * Why the customers source looks like an outage rather than a mass cancellation (docs/design.md §5):
 * `source-empty` (it returns no rows while workspaces are linked) or `source-shrank` (it lost
 * more than MAX_DESTRUCTIVE_SHARE of its rows since the size last accepted).
 */
export type SourceOutage = 'source-empty' | 'source-shrank';

/** Why a change waits for a person: the mass-change limit, or an outage of the source. */
export const HOLD_REASONS = ['limit', 'source-empty', 'source-shrank'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** What the gate and the sweep know of the source's size. */
export interface SourceSize {
  /** Rows the source returns now. */
  readonly rows: number;
  /**
   * Its size last accepted (by a complete sweep that found no outage, or by a person's approval);
   * null before any, when the linked count stands in for it.
   */
  readonly accepted: number | null;
  /** Customers linked to a workspace. */
  readonly linked: number;
}

/**
 * Whether the source is out rather than emptied on purpose: whatever the fleet's size, no rows
 * while workspaces are linked, or fewer rows than the size last accepted by more than the share.
 */
export function sourceOutage(
  size: SourceSize,
  policy: { readonly maxDestructiveShare: number },
): SourceOutage | null {
  if (size.linked === 0) return null;
  const base = size.accepted ?? size.linked;
  if (size.rows === 0 && base > 0) return 'source-empty';
  if (base - size.rows > policy.maxDestructiveShare * base) return 'source-shrank';
  return null;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** The outage in one sentence, for `status`, `plan`, the console and the logs. */
export function outageMessage(
  reason: SourceOutage,
  size: SourceSize,
  policy: { readonly maxDestructiveShare: number },
): string {
  const what =
    reason === 'source-empty'
      ? `the customers source returns no rows while ${size.linked} customers are linked to workspaces`
      : `the customers source returns ${size.rows} rows, down from ${size.accepted ?? size.linked}${size.accepted === null ? ' linked customers' : ''}: more than MAX_DESTRUCTIVE_SHARE=${percent(policy.maxDestructiveShare)} fewer`;
  return `${what}. Deactivations and deletes of customers whose rows left it are held as an outage, whatever the fleet's size: they go ahead once a person approves them (which also accepts the source's new size), and are dropped if the rows come back.`;
}
