/**
 * `approve`: releases held destructive changes. Each hold is first decided again against the
 * customer's current row: one whose change the row no longer calls for (the customer came back,
 * or its row returned after an outage; an orphan that got linked) is dropped, not approved, and
 * nothing is queued for it. The rest become `approved` and their subjects are synced again
 * (trigger `approve`); the sync re-checks that the change is still wanted, and the destructive
 * gate lets an approved change through. Approving a change an outage of the source held also
 * accepts the source's size as it is now (a person said the smaller source is right).
 */
import type { App } from '../app.js';
import { statusCallsFor } from '../core/destructive.js';
import { currentStatuses, linkedAmong } from '../sql/customers.js';
import {
  type ApprovalTarget,
  approvalTargetExists,
  approveHolds,
  dropHolds,
  heldIn,
  type PendingHold,
} from '../sql/holds.js';
import { acceptCurrentSourceSize } from '../sql/sourceSize.js';
import { NotFoundError } from './errors.js';

export type { ApprovalTarget } from '../sql/holds.js';

export interface ApproveResult {
  readonly approved: { holdId: number; subject: string; action: string }[];
  /** Holds whose change the current row no longer calls for: dropped, nothing queued. */
  readonly dropped: { holdId: number; subject: string; action: string; why: string }[];
  /** Distinct subjects queued for a sync. */
  readonly queued: number;
}

export interface ApproveOptions {
  /** Who approved, in the audit (`cli`, or the console's `console user "<name>"`). */
  readonly by?: string;
  /**
   * Only these holds of the target (those a person was shown: the console's forms carry them);
   * holds the target gained since are left held.
   */
  readonly only?: readonly number[];
}

/** Reads `<sweep-id>`, `<hold-id>` (digits) or `--all` into a target. */
export function approvalTarget(id: string | undefined, all: boolean): ApprovalTarget | null {
  if (all) return id === undefined ? { kind: 'all' } : null;
  if (id === undefined || id.trim() === '') return null;
  return /^\d+$/.test(id) ? { kind: 'hold', holdId: Number(id) } : { kind: 'sweep', sweepId: id };
}

/** Approves what the target holds; an unknown sweep or hold id is a {@link NotFoundError}. */
export async function approve(
  app: Pick<App, 'pool' | 'syncQueue' | 'clock' | 'source'>,
  target: ApprovalTarget,
  options: ApproveOptions = {},
): Promise<ApproveResult> {
  if (!(await approvalTargetExists(app.pool, target))) {
    const what =
      target.kind === 'hold'
        ? `hold ${target.holdId}`
        : target.kind === 'sweep'
          ? `sweep ${target.sweepId}`
          : '';
    throw new NotFoundError(`no ${what} (see \`status\` for held changes)`);
  }
  const by = options.by ?? 'cli';
  const pending = await heldIn(app.pool, target, options.only ?? null);
  const stale = await staleAmong(app, pending);
  const dropped = await dropHolds(app.pool, stale, by);
  const staleIds = new Set(stale.map((s) => s.holdId));
  const keep = pending.filter((p) => !staleIds.has(p.holdId)).map((p) => p.holdId);
  const approved = keep.length > 0 ? await approveHolds(app.pool, target, by, keep) : [];
  if (approved.some((a) => a.reason !== 'limit')) {
    await acceptCurrentSourceSize(app.pool, app.source, `approval by ${by}`);
  }
  const subjects = [...new Set(approved.map((a) => a.subject))];
  if (subjects.length > 0) await app.syncQueue.enqueue(subjects, 'approve');
  return {
    approved: approved.map(({ holdId, subject, action }) => ({ holdId, subject, action })),
    dropped,
    queued: subjects.length,
  };
}

/**
 * The holds whose change the current row no longer calls for, and why: a customer's status
 * (a row that left the source reads as deleted), an orphan's workspace linked since.
 */
async function staleAmong(
  app: Pick<App, 'pool' | 'source'>,
  pending: readonly PendingHold[],
): Promise<{ holdId: number; why: string }[]> {
  const customers = pending.flatMap((p) => (p.customerId === null ? [] : [p.customerId]));
  const orphans = pending.flatMap((p) =>
    p.customerId === null && p.workspaceId !== null ? [p.workspaceId] : [],
  );
  const [statuses, linked] = await Promise.all([
    currentStatuses(app.pool, app.source, customers),
    linkedAmong(app.pool, orphans),
  ]);
  const stale: { holdId: number; why: string }[] = [];
  for (const p of pending) {
    if (p.customerId !== null) {
      const status = statuses.get(p.customerId) ?? 'deleted';
      if (!statusCallsFor(status, p.action)) {
        stale.push({
          holdId: p.holdId,
          why: `customer ${p.customerId} is ${status} now: its row no longer calls for ${p.action === 'create' ? 'a re-creation' : `a ${p.action}`}`,
        });
      }
    } else if (p.workspaceId !== null && linked.has(p.workspaceId)) {
      stale.push({
        holdId: p.holdId,
        why: `workspace ${p.workspaceId} is linked to a customer now: no longer an orphan`,
      });
    }
  }
  return stale;
}
