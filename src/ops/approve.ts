/**
 * `approve`: releases held destructive changes. The holds become `approved` and their subjects
 * are synced again (trigger `approve`); the sync re-checks that the change is still wanted, and
 * the destructive gate lets an approved change through.
 */
import type { App } from '../app.js';
import { type ApprovalTarget, approvalTargetExists, approveHolds } from '../sql/holds.js';
import { NotFoundError } from './errors.js';

export interface ApproveResult {
  readonly approved: { holdId: number; subject: string; action: string }[];
  /** Distinct subjects queued for a sync. */
  readonly queued: number;
}

/** Reads `<sweep-id>`, `<hold-id>` (digits) or `--all` into a target. */
export function approvalTarget(id: string | undefined, all: boolean): ApprovalTarget | null {
  if (all) return id === undefined ? { kind: 'all' } : null;
  if (id === undefined || id.trim() === '') return null;
  return /^\d+$/.test(id) ? { kind: 'hold', holdId: Number(id) } : { kind: 'sweep', sweepId: id };
}

/**
 * Approves what the target holds; an unknown sweep or hold id is a {@link NotFoundError}. `by`
 * names who approved, in the audit (`cli`, or the console's `console user "<name>"`).
 */
export async function approve(
  app: Pick<App, 'pool' | 'syncQueue' | 'clock'>,
  target: ApprovalTarget,
  options: { by?: string } = {},
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
  const approved = await approveHolds(app.pool, target, options.by ?? 'cli');
  const subjects = [...new Set(approved.map((a) => a.subject))];
  if (subjects.length > 0) await app.syncQueue.enqueue(subjects, 'approve');
  return { approved, queued: subjects.length };
}
