/**
 * The gate every destructive change passes (docs/design.md §5): deactivations, deletes, and the
 * re-creation of a workspace that went missing. In one transaction, under one advisory lock
 * shared by every daemon, on the database's clock:
 *
 * 1. a change a person approved goes ahead; one still held waits;
 * 2. a change a recent sweep planned, and whose hold decision that sweep has committed without
 *    holding it, goes ahead (the sweep counted it);
 * 3. anything else (webhooks, direct writes, `enqueue`, a sweep still deciding) is held (`sweepId`
 *    null) for `approve` when its customer's row has left a source that is out (it returns no
 *    rows while workspaces are linked, or lost more than the share since its size was last
 *    accepted: `sourceOutage`), whatever the fleet's size; otherwise it goes ahead only while the
 *    destructive changes of the last `SWEEP_EVERY` stay within the mass-change limit, and past it
 *    it is held; and once the limit has held a change, the limit stays tripped: every such change
 *    is held until a person approves (or the held changes go stale), as a mass change whose syncs
 *    come late must not trickle through at the limit's rate per window.
 *
 * An admitted change is written to the audit as `started` in the same transaction, so it counts
 * against the window before the API is called.
 */
import type pg from 'pg';

import { exceedsDestructiveLimit, type MassChangeLimit } from '../core/destructive.js';
import { type HoldReason, sourceOutage } from '../core/sourceOutage.js';
import { type AuditStart, startAudit } from '../sql/audit.js';
import { holdOutsideSweep, LIMIT_TRIPPED_SQL, openHoldFor } from '../sql/holds.js';
import { inSource, sourceRows } from '../sql/sourceSize.js';
import type { CustomerSource } from '../sql/source.js';

/** An arbitrary constant naming customer-sync's destructive-change lock. */
export const DESTRUCTIVE_LOCK = 0x64_65_73_74; // "dest"

/**
 * What the gate counts against: the mass-change limit (the policy's, set once from the
 * configuration) over a rolling window of one `SWEEP_EVERY`.
 */
export interface GateLimits {
  readonly limit: MassChangeLimit;
  readonly windowMs: number;
}

export type Admission =
  | { readonly admitted: true; readonly auditId: number; readonly approvedHold: number | null }
  | {
      readonly admitted: false;
      readonly holdId: number;
      readonly sweepId: string | null;
      /** Why it waits (a hold made earlier: `undefined`, its reason is on the hold). */
      readonly reason?: HoldReason;
    };

export async function admitDestructive(
  pool: pg.Pool,
  limits: GateLimits,
  audit: AuditStart,
  source: CustomerSource,
): Promise<Admission> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1)', [DESTRUCTIVE_LOCK]);
    const hold = await openHoldFor(client, audit, audit.action);
    if (hold?.state === 'held') {
      await client.query('commit');
      return { admitted: false, holdId: hold.id, sweepId: hold.sweepId };
    }
    if (!hold && !(await sweepAdmitted(client, audit, limits.windowMs))) {
      const reason = await heldBecause(client, source, audit, limits);
      if (reason) {
        const holdId = await holdOutsideSweep(client, audit, audit.action, reason);
        await client.query('commit');
        return { admitted: false, holdId, sweepId: null, reason };
      }
    }
    const auditId = await startAudit(client, audit);
    await client.query('commit');
    return { admitted: true, auditId, approvedHold: hold ? hold.id : null };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Why a change outside a sweep must wait, if it must: the source's outage, when the customer's
 * row has left a source that is out (only then is the source counted: an outage cancels no
 * customer whose row is there); else the rolling window's mass-change limit. On the
 * transaction's snapshot, under the gate's lock; see `sql/sourceSize.ts` for the counts' cost.
 */
async function heldBecause(
  client: pg.PoolClient,
  source: CustomerSource,
  audit: AuditStart,
  limits: GateLimits,
): Promise<HoldReason | null> {
  const { rows } = await client.query<{ used: number; linked: number; tripped: boolean }>(
    `select (select count(*)::int from audit
              where destructive and outcome in ('started', 'ok')
                and at > now() - make_interval(secs => $1::double precision / 1000)) as used,
            (select count(*)::int from customer_links) as linked,
            ${LIMIT_TRIPPED_SQL} as tripped`,
    [limits.windowMs],
  );
  const { used, linked, tripped } = rows[0] ?? { used: 0, linked: 0, tripped: false };
  if (audit.customerId !== null && !(await inSource(client, source, audit.customerId))) {
    const size = { ...(await sourceRows(client, source)), linked };
    const outage = sourceOutage(size, limits.limit);
    if (outage) return outage;
  }
  // Tripped: a change the limit held still waits for a person. Until then nothing destructive
  // from outside a sweep goes ahead, however long ago the window filled: a mass change whose
  // syncs come late (a slow or stopped worker) must not trickle through at the limit's rate.
  if (tripped) return 'limit';
  return exceedsDestructiveLimit(used + 1, linked, limits.limit) ? 'limit' : null;
}

/**
 * Did a sweep of the window plan this very change, commit its hold decision, and not hold it?
 * (A sweep still deciding has admitted nothing yet.)
 */
async function sweepAdmitted(
  client: pg.PoolClient,
  audit: AuditStart,
  windowMs: number,
): Promise<boolean> {
  const { rows } = await client.query(
    `select 1 from sweep_changes sc join sweeps s on s.id = sc.sweep_id
      where sc.action = $1 and not sc.held and s.decided_at is not null
        and s.started_at > now() - make_interval(secs => $5::double precision / 1000)
        and (sc.customer_id = $2 or ($2::text is null and sc.workspace_id = $3))
        and (coalesce(sc.from_state, '') = 'missing') = ($4::text = 'missing')
      limit 1`,
    [audit.action, audit.customerId, audit.workspaceId, String(audit.before ?? ''), windowMs],
  );
  return rows.length > 0;
}
