/**
 * A sweep's hold decision, in one transaction: the changes an outage of the source holds, then
 * those the mass-change limit holds, the holds its plan no longer calls for voided, and the
 * source's size accepted when it found no outage.
 */
import type pg from 'pg';

import { destructiveSql } from '../core/destructive.js';
import type { SourceOutage } from '../core/sourceOutage.js';
import { acceptSourceSize } from './sourceSize.js';
import { inTransaction } from './transaction.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** What the sweep decided (`findHoldReasons` in `sync/sweepPhases.ts`). */
export interface HoldDecision {
  /** The mass-change limit is exceeded: every gated change is held. */
  readonly limit: boolean;
  /** The source is out: the gated changes of customers whose rows left it are held for this. */
  readonly outage: SourceOutage | null;
  /** The source as SQL for a `from` clause (`CustomerSource.relation`). */
  readonly relation: string;
  /**
   * A complete listing's sweep: when its reading began. Open holds made before it whose change
   * the plan no longer calls for (the customer came back, is in step, or wants another change;
   * the orphan was linked, or the policy changed) are void.
   */
  readonly staleBefore: Date | null;
  /** A complete sweep that found no outage: the source's size it accepts, and by whom. */
  readonly accept: { readonly rows: number; readonly by: string } | null;
}

/** A gated change of this sweep whose customer's row has left the source. */
const leftSql = (relation: string) =>
  `sc.customer_id is not null and not exists (select 1 from ${relation} c where c.id = sc.customer_id)`;

/** How many of the sweep's gated changes are of customers whose rows left the source. */
export async function countGatedOfLeft(
  db: Queryable,
  relation: string,
  sweepId: string,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from sweep_changes sc
      where sc.sweep_id = $1 and ${destructiveSql('sc')} and ${leftSql(relation)}`,
    [sweepId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Commits the sweep's hold decision in one transaction. Only once `decided_at` is set do other
 * triggers treat the sweep's planned changes as admitted. Returns how many holds were recorded
 * and how many stale ones were voided.
 */
export async function decideHolds(
  pool: pg.Pool,
  sweepId: string,
  decision: HoldDecision,
): Promise<{ held: number; voided: number }> {
  return inTransaction(pool, async (client) => {
    let held = 0;
    if (decision.outage) {
      held += await holdWhere(client, sweepId, leftSql(decision.relation), decision.outage);
    }
    if (decision.limit) held += await holdWhere(client, sweepId, 'true', 'limit');
    const voided = decision.staleBefore
      ? await voidUncalledFor(client, sweepId, decision.staleBefore)
      : 0;
    if (decision.accept) {
      await acceptSourceSize(client, decision.accept.rows, decision.accept.by);
    }
    await client.query('update sweeps set decided_at = now() where id = $1', [sweepId]);
    return { held, voided };
  });
}

/** Marks held the sweep's gated changes matching `where`, and records a hold for each. */
async function holdWhere(
  client: pg.PoolClient,
  sweepId: string,
  where: string,
  reason: string,
): Promise<number> {
  const { rowCount } = await client.query(
    `with held as (
       update sweep_changes sc set held = true
        where sc.sweep_id = $1 and ${destructiveSql('sc')} and not sc.held and ${where}
        returning sc.sweep_id, sc.customer_id, sc.action, sc.workspace_id)
     insert into holds (sweep_id, customer_id, action, workspace_id, created_at, reason)
     select sweep_id, customer_id, action, workspace_id, now(), $2 from held
     on conflict do nothing`,
    [sweepId, reason],
  );
  return rowCount ?? 0;
}

/**
 * Voids the open holds made before `before` whose change this (complete) sweep's plan does not
 * call for. A deactivation stays held while the plan finds the customer a workspace by name (it
 * may need deactivating once found, as the sync decides).
 */
async function voidUncalledFor(
  client: pg.PoolClient,
  sweepId: string,
  before: Date,
): Promise<number> {
  // Customers' holds and orphans' apart: each probes the sweep's changes by its own key.
  const customers = await client.query(
    `update holds h set state = 'void', decided_at = now()
      where h.state in ('held', 'approved') and h.created_at < $2 and h.customer_id is not null
        and not exists (
          select 1 from sweep_changes sc
           where sc.sweep_id = $1 and sc.customer_id = h.customer_id
             and (sc.action = h.action
                  or (h.action = 'deactivate' and sc.action in ('create', 'adopt'))))`,
    [sweepId, before],
  );
  const orphans = await client.query(
    `update holds h set state = 'void', decided_at = now()
      where h.state in ('held', 'approved') and h.created_at < $2 and h.customer_id is null
        and not exists (
          select 1 from sweep_changes sc
           where sc.sweep_id = $1 and sc.customer_id is null
             and sc.workspace_id = h.workspace_id and sc.action = h.action)`,
    [sweepId, before],
  );
  return (customers.rowCount ?? 0) + (orphans.rowCount ?? 0);
}
