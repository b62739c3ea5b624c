/** Held destructive changes: listed by `status`, released by `approve`. */
import type pg from 'pg';

import type { GatedAction } from '../core/destructive.js';
import type { HoldReason } from '../core/sourceOutage.js';
import { subjectKeySql } from './subjects.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** The subject of a hold: a customer, or an orphan's workspace. */
export interface HoldSubject {
  readonly customerId: string | null;
  readonly workspaceId: string | null;
}

/** The open (held or approved) hold of one subject for one action, if any. */
export async function openHoldFor(
  db: Queryable,
  subject: HoldSubject,
  action: string,
): Promise<{ id: number; state: 'held' | 'approved'; sweepId: string | null } | undefined> {
  const { rows } = await db.query<{
    id: number;
    state: 'held' | 'approved';
    sweepId: string | null;
  }>(
    `select id::int, state, sweep_id as "sweepId" from holds
      where coalesce(customer_id, workspace_id::text) = $1 and action = $2
        and state in ('held', 'approved')`,
    [subject.customerId ?? subject.workspaceId, action],
  );
  return rows[0];
}

/**
 * Holds a change for `approve` outside a sweep: the rolling window is full (`limit`), or the
 * customer's row left a source that is out.
 */
export async function holdOutsideSweep(
  db: Queryable,
  subject: HoldSubject,
  action: string,
  reason: HoldReason,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `insert into holds (sweep_id, customer_id, action, workspace_id, created_at, reason)
     values (null, $1, $2, $3, now(), $4) returning id::int`,
    [subject.customerId, action, subject.workspaceId, reason],
  );
  return Number(rows[0]?.id);
}

/** A hold a person approved, now carried out. */
export async function completeHold(db: Queryable, holdId: number): Promise<void> {
  await db.query(`update holds set state = 'done', decided_at = now() where id = $1`, [holdId]);
}

/** Voids the subject's open holds for changes it no longer needs (it came back, or it is done). */
export async function voidStaleHolds(
  db: Queryable,
  subject: HoldSubject,
  stillNeeded: readonly string[],
): Promise<void> {
  await db.query(
    `update holds set state = 'void', decided_at = now()
      where coalesce(customer_id, workspace_id::text) = $1 and state in ('held', 'approved')
        and not (action = any($2::text[]))`,
    [subject.customerId ?? subject.workspaceId, stillNeeded],
  );
}

/**
 * The mass-change limit is tripped: a change it held still waits for a person. Until then the
 * gate holds every destructive change from outside a sweep (`sync/gate.ts`); `status` and the
 * console say so. As a SQL boolean, for the gate's own statement.
 */
export const LIMIT_TRIPPED_SQL = `exists (select 1 from holds where state = 'held' and reason = 'limit')`;

/** Whether the mass-change limit is tripped (see {@link LIMIT_TRIPPED_SQL}). */
export async function limitTripped(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ tripped: boolean }>(`select ${LIMIT_TRIPPED_SQL} as tripped`);
  return rows[0]?.tripped ?? false;
}

/** One change still waiting for a person. */
export interface HeldChange {
  holdId: number;
  /** The sweep that held it, or null when the rolling-window limit held it. */
  sweepId: string | null;
  /** The customer, or null for an orphan's change (then `workspaceId` names it). */
  customerId: string | null;
  /** `create` is the re-creation of a workspace that went missing. */
  action: GatedAction;
  workspaceId: string | null;
  createdAt: Date;
  /** Why it waits: the mass-change limit, or an outage of the customers source. */
  reason: HoldReason;
}

const HELD_COLUMNS = `id::int as "holdId", sweep_id as "sweepId", customer_id as "customerId", action,
  workspace_id as "workspaceId", created_at as "createdAt", reason`;

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

const targetSql = (target: ApprovalTarget) =>
  target.kind === 'hold'
    ? 'id = $1'
    : target.kind === 'sweep'
      ? 'sweep_id = $1'
      : '$1::text is null';
const targetParam = (target: ApprovalTarget) =>
  target.kind === 'hold' ? target.holdId : target.kind === 'sweep' ? target.sweepId : null;

/** A hold an approval is about to release (or drop, when its change is no longer called for). */
export interface PendingHold {
  readonly holdId: number;
  readonly customerId: string | null;
  readonly workspaceId: string | null;
  readonly action: GatedAction;
  readonly reason: HoldReason;
}

/**
 * The target's holds still `held`; with `only`, just those of these ids (the ones a person was
 * shown), whatever else the target holds by now.
 */
export async function heldIn(
  db: Queryable,
  target: ApprovalTarget,
  only: readonly number[] | null,
): Promise<PendingHold[]> {
  const { rows } = await db.query(
    `select id::int as "holdId", customer_id as "customerId", workspace_id as "workspaceId",
            action, reason
       from holds
      where state = 'held' and ${targetSql(target)} and ($2::bigint[] is null or id = any($2))
      order by id`,
    [targetParam(target), only],
  );
  return rows as PendingHold[];
}

/**
 * Drops holds whose change is no longer called for (`void`), with one audit row each saying why
 * and who tried to approve it. Returns the holds dropped (one still `held`, in one statement).
 */
export async function dropHolds(
  db: Queryable,
  drops: readonly { holdId: number; why: string }[],
  by: string,
): Promise<{ holdId: number; subject: string; action: string; why: string }[]> {
  if (drops.length === 0) return [];
  const { rows } = await db.query(
    `with why as (select * from unnest($1::bigint[], $2::text[]) as w(id, why)),
     dropped as (
       update holds h set state = 'void', decided_at = now() from why
        where h.id = why.id and h.state = 'held'
        returning h.id, h.action, h.sweep_id, h.customer_id, h.workspace_id, why.why),
     audited as (
       insert into audit (at, trigger, sweep_id, customer_id, workspace_id, action, outcome, message)
       select now(), 'approve', sweep_id, customer_id, workspace_id, action, 'skipped',
              'hold ' || id || ' dropped, not approved, by ' || $3 || ': ' || why
         from dropped)
     select id::int as "holdId", action, why,
            ${subjectKeySql('customer_id', 'workspace_id')} as subject
       from dropped order by id`,
    [drops.map((d) => d.holdId), drops.map((d) => d.why), by],
  );
  return rows as { holdId: number; subject: string; action: string; why: string }[];
}

/**
 * Marks the target's `held` holds approved (one statement: a hold is approved once however many
 * operators race), writes one audit row per approval naming who approved it (same statement, so
 * an approval is never unrecorded), and returns the subjects to sync again: the customer id, or
 * `workspace:<id>` for an orphan's hold. With `only`, just the holds of these ids.
 */
export async function approveHolds(
  db: Queryable,
  target: ApprovalTarget,
  by: string,
  only: readonly number[] | null = null,
): Promise<{ holdId: number; subject: string; action: string; reason: HoldReason }[]> {
  const { rows } = await db.query(
    `with approved as (
       update holds set state = 'approved', decided_at = now()
        where state = 'held' and ${targetSql(target)} and ($3::bigint[] is null or id = any($3))
        returning id, action, sweep_id, customer_id, workspace_id, reason),
     audited as (
       insert into audit (at, trigger, sweep_id, customer_id, workspace_id, action, outcome, message)
       select now(), 'approve', sweep_id, customer_id, workspace_id, action, 'approved',
              'hold ' || id || ' approved by ' || $2
         from approved)
     select id::int as "holdId", action, reason,
            ${subjectKeySql('customer_id', 'workspace_id')} as subject
       from approved order by id`,
    [targetParam(target), by, only],
  );
  return rows as { holdId: number; subject: string; action: string; reason: HoldReason }[];
}
