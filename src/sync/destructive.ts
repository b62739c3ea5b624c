/**
 * The gate every deactivation and delete passes (DESIGN.md §5). In one transaction, under one
 * advisory lock shared by every daemon:
 *
 * 1. a change a person approved goes ahead; one still held waits;
 * 2. a change a recent sweep planned, and did not hold, goes ahead (the sweep counted it);
 * 3. anything else (webhooks, direct writes, `enqueue`) goes ahead only while the destructive
 *    changes of the last `SWEEP_EVERY` stay within the mass-change limit; past it, it is held
 *    (`sweepId` null) for `approve`.
 *
 * An admitted change is written to the audit as `started` in the same transaction, so it counts
 * against the window before the API is called.
 */
import type pg from 'pg';

import { exceedsDestructiveLimit } from '../core/planner.js';
import { type AuditStart, startAudit } from '../sql/audit.js';

/** An arbitrary constant naming customer-sync's destructive-change lock. */
const DESTRUCTIVE_LOCK = 0x64_65_73_74; // "dest"

export interface DestructiveLimits {
  readonly maxDestructivePerSweep: number;
  readonly maxDestructiveShare: number;
  /** The rolling window: one `SWEEP_EVERY`. */
  readonly windowMs: number;
}

export type Admission =
  | { readonly admitted: true; readonly auditId: number; readonly approvedHold: number | null }
  | { readonly admitted: false; readonly holdId: number; readonly sweepId: string | null };

export async function admitDestructive(
  pool: pg.Pool,
  limits: DestructiveLimits,
  audit: AuditStart & { action: 'deactivate' | 'delete' },
): Promise<Admission> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1)', [DESTRUCTIVE_LOCK]);
    const subject = audit.customerId ?? audit.workspaceId;
    const open = await client.query<{ id: string; state: string; sweep_id: string | null }>(
      `select id, state, sweep_id from holds
        where coalesce(customer_id, workspace_id::text) = $1 and action = $2 and state in ('held', 'approved')`,
      [subject, audit.action],
    );
    const hold = open.rows[0];
    if (hold?.state === 'held') {
      await client.query('commit');
      return { admitted: false, holdId: Number(hold.id), sweepId: hold.sweep_id };
    }
    const since = new Date(audit.at.getTime() - limits.windowMs);
    if (!hold && !(await sweepPlanned(client, audit, since))) {
      const { rows } = await client.query<{ used: number; linked: number }>(
        `select (select count(*)::int from audit
                  where destructive and outcome in ('started', 'ok') and at > $1) as used,
                (select count(*)::int from customer_links) as linked`,
        [since],
      );
      const { used, linked } = rows[0] ?? { used: 0, linked: 0 };
      if (exceedsDestructiveLimit(used + 1, linked, limits)) {
        const held = await client.query<{ id: string }>(
          `insert into holds (sweep_id, customer_id, action, workspace_id, created_at)
           values (null, $1, $2, $3, $4) returning id`,
          [audit.customerId, audit.action, audit.workspaceId, audit.at],
        );
        await client.query('commit');
        return { admitted: false, holdId: Number(held.rows[0]?.id), sweepId: null };
      }
    }
    const auditId = await startAudit(client, audit);
    await client.query('commit');
    return { admitted: true, auditId, approvedHold: hold ? Number(hold.id) : null };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Did a sweep of the window plan this very change without holding it? */
async function sweepPlanned(
  client: pg.PoolClient,
  audit: AuditStart,
  since: Date,
): Promise<boolean> {
  const { rows } = await client.query(
    `select 1 from sweep_changes sc join sweeps s on s.id = sc.sweep_id
      where sc.action = $1 and not sc.held and s.started_at > $2
        and (sc.customer_id = $3 or ($3::text is null and sc.workspace_id = $4))
      limit 1`,
    [audit.action, since, audit.customerId, audit.workspaceId],
  );
  return rows.length > 0;
}

/** A hold a person approved, now carried out. */
export async function completeHold(pool: pg.Pool, holdId: number, at: Date): Promise<void> {
  await pool.query(`update holds set state = 'done', decided_at = $2 where id = $1`, [holdId, at]);
}

/** Holds for changes this subject no longer needs (it came back, or someone else did it). */
export async function voidStaleHolds(
  pool: pg.Pool,
  subject: { customerId: string | null; workspaceId: string | null },
  stillNeeded: readonly string[],
  at: Date,
): Promise<void> {
  await pool.query(
    `update holds set state = 'void', decided_at = $3
      where coalesce(customer_id, workspace_id::text) = $1 and state in ('held', 'approved')
        and not (action = any($2::text[]))`,
    [subject.customerId ?? subject.workspaceId, stillNeeded, at],
  );
}
