/** Orphans as of the last complete listing: workspaces linked to no customer. */
import type pg from 'pg';

import { DEFAULT_WORKSPACE_NAME } from '../core/types.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** One reported orphan. */
export interface OrphanRow {
  workspaceId: string;
  name: string;
  status: string;
  sweepId: string;
  seenAt: Date;
}

/** The orphans, by name; the organization's `default` workspace is never one. */
export async function listOrphans(db: Queryable, limit = 1000): Promise<OrphanRow[]> {
  const { rows } = await db.query(
    `select workspace_id as "workspaceId", name, status, sweep_id as "sweepId", seen_at as "seenAt"
       from orphans where lower(name) <> $1 order by name, workspace_id limit $2`,
    [DEFAULT_WORKSPACE_NAME, limit],
  );
  return rows as OrphanRow[];
}
