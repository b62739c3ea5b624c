/** The audit: every change attempted, who asked, before → after, how it went, what the API said. */
import type pg from 'pg';

import type { Action, Trigger } from '../core/types.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** An audit row as it starts; its time is the database's (one clock for every daemon). */
export interface AuditStart {
  readonly trigger: Trigger | 'sweep';
  readonly sweepId: string | null;
  readonly jobId: string | null;
  readonly customerId: string | null;
  readonly workspaceId: string | null;
  readonly action: Action;
  readonly before: unknown;
  readonly after: unknown;
  readonly attempts: number;
  readonly destructive: boolean;
}

/**
 * Writes the row as `started` (it counts against the destructive window from now on). With
 * `minting` (a create or adopt: a workspace is about to be minted under that name for the
 * customer), the name is remembered in `pending_mints` by the same statement, until the link is
 * stored (see migration 0012).
 */
export async function startAudit(
  db: Queryable,
  entry: AuditStart,
  minting?: string,
): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `with minting as (
       insert into pending_mints (customer_id, workspace_name, at)
       select $4, $11, now() where $11::text is not null and $4::text is not null
       on conflict (customer_id) do update set workspace_name = excluded.workspace_name, at = now()
     )
     insert into audit (at, trigger, sweep_id, job_id, customer_id, workspace_id, action, before,
                        after, outcome, attempts, destructive)
     values (now(), $1, $2, $3, $4, $5, $6, $7, $8, 'started', $9, $10) returning id`,
    [
      entry.trigger,
      entry.sweepId,
      entry.jobId,
      entry.customerId,
      entry.workspaceId,
      entry.action,
      JSON.stringify(entry.before ?? null),
      JSON.stringify(entry.after ?? null),
      entry.attempts,
      entry.destructive,
      minting ?? null,
    ],
  );
  return Number(rows[0]?.id);
}

export async function finishAudit(
  db: Queryable,
  id: number,
  outcome: 'ok' | 'failed' | 'held' | 'skipped',
  message: string | null,
  workspaceId?: string | null,
): Promise<void> {
  await db.query(
    `update audit set outcome = $2, message = $3, workspace_id = coalesce($4, workspace_id) where id = $1`,
    [id, outcome, message, workspaceId ?? null],
  );
}

export interface AuditRow {
  at: Date;
  trigger: string;
  sweepId: string | null;
  action: string;
  workspaceId: string | null;
  before: unknown;
  after: unknown;
  outcome: string;
  attempts: number;
  message: string | null;
}

export async function recentAudit(
  db: Queryable,
  customerId: string,
  limit = 10,
): Promise<AuditRow[]> {
  const { rows } = await db.query(
    `select at, trigger, sweep_id as "sweepId", action, workspace_id as "workspaceId", before, after,
            outcome, attempts, message
       from audit where customer_id = $1 order by at desc, id desc limit $2`,
    [customerId, limit],
  );
  return rows as AuditRow[];
}
