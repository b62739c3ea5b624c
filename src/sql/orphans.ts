/**
 * Orphans as of the last complete listing: workspaces linked to no customer (`status` lists them:
 * `typedReads.ts`).
 */
import type pg from 'pg';

import type { OrphanRow } from './typedReads.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * The workspace named `name` that the last complete listing reported as an orphan and nobody has
 * linked since, unless it is the one `customerId` itself minted under that name (its id lost):
 * what get-or-create by name would link, which only a person may adopt. Null when there is none.
 */
export async function reportedOrphanNamed(
  db: Queryable,
  name: string,
  customerId: string,
): Promise<string | null> {
  const { rows } = await db.query<{ workspace_id: string }>(
    `select o.workspace_id from orphans o
      where o.name = $1
        and not exists (select 1 from customer_links l where l.workspace_id = o.workspace_id)
        and not exists (select 1 from pending_mints pm
                         where pm.customer_id = $2 and pm.workspace_name = $1)
      order by o.workspace_id limit 1`,
    [name, customerId],
  );
  return rows[0]?.workspace_id ?? null;
}

/** Whether `workspaceId` is a reported orphan, and under what name. */
export async function reportedOrphan(
  db: Queryable,
  workspaceId: string,
): Promise<OrphanRow | null> {
  const { rows } = await db.query(
    `select workspace_id as "workspaceId", name, status, sweep_id as "sweepId", seen_at as "seenAt"
       from orphans where workspace_id = $1`,
    [workspaceId],
  );
  return (rows[0] as OrphanRow | undefined) ?? null;
}

/** Takes a workspace off the orphan report: a person linked it. */
export async function forgetOrphan(db: Queryable, workspaceId: string): Promise<void> {
  await db.query('delete from orphans where workspace_id = $1', [workspaceId]);
}
