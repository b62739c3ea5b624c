/** Held destructive changes: listed by `status`, released by `approve`. */
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'>;

/** One change still waiting for a person. */
export interface HeldChange {
  holdId: number;
  /** The sweep that held it, or null when the rolling-window limit held it. */
  sweepId: string | null;
  /** The customer, or null for an orphan's change (then `workspaceId` names it). */
  customerId: string | null;
  action: 'deactivate' | 'delete';
  workspaceId: string | null;
  createdAt: Date;
}

const HELD_COLUMNS = `id::int as "holdId", sweep_id as "sweepId", customer_id as "customerId", action,
  workspace_id as "workspaceId", created_at as "createdAt"`;

/** Every hold still in state `held`, oldest first. */
export async function heldChanges(db: Queryable, limit = 1000): Promise<HeldChange[]> {
  const { rows } = await db.query(
    `select ${HELD_COLUMNS} from holds where state = 'held' order by created_at, id limit $1`,
    [limit],
  );
  return rows as HeldChange[];
}

/** Holds of one customer still open (held or approved), for `explain`. */
export async function openHoldsOf(db: Queryable, customerId: string): Promise<HeldChange[]> {
  const { rows } = await db.query(
    `select ${HELD_COLUMNS} from holds
      where customer_id = $1 and state in ('held', 'approved') order by id`,
    [customerId],
  );
  return rows as HeldChange[];
}

/** What `approve` is aimed at: one hold, one sweep's holds, or every hold. */
export type ApprovalTarget =
  | { readonly kind: 'hold'; readonly holdId: number }
  | { readonly kind: 'sweep'; readonly sweepId: string }
  | { readonly kind: 'all' };

/** Does the target name something that exists (a hold of any state, or a sweep)? */
export async function approvalTargetExists(
  db: Queryable,
  target: ApprovalTarget,
): Promise<boolean> {
  if (target.kind === 'all') return true;
  const { rows } =
    target.kind === 'hold'
      ? await db.query('select 1 from holds where id = $1', [target.holdId])
      : await db.query(
          `select 1 from sweeps where id = $1
           union all select 1 from holds where sweep_id = $1 limit 1`,
          [target.sweepId],
        );
  return rows.length > 0;
}

/**
 * Marks the target's `held` holds approved (one statement: a hold is approved once however many
 * operators race) and returns the subjects to sync again: the customer id, or `workspace:<id>`
 * for an orphan's hold.
 */
export async function approveHolds(
  db: Queryable,
  target: ApprovalTarget,
  at: Date,
): Promise<{ holdId: number; subject: string; action: string }[]> {
  const where =
    target.kind === 'hold'
      ? 'id = $2'
      : target.kind === 'sweep'
        ? 'sweep_id = $2'
        : '$2::text is null';
  const param =
    target.kind === 'hold' ? target.holdId : target.kind === 'sweep' ? target.sweepId : null;
  const { rows } = await db.query(
    `update holds set state = 'approved', decided_at = $1
      where state = 'held' and ${where}
      returning id::int as "holdId", action,
                coalesce(customer_id, 'workspace:' || workspace_id::text) as subject`,
    [at, param],
  );
  return rows as { holdId: number; subject: string; action: string }[];
}
