/**
 * The sweep's own records: planned changes, orphans, holds, what to queue, and its row.
 * (Staging: `sweepStaging.ts`; the customers' facts: `customerFacts.ts`.)
 */
import type pg from 'pg';

import { type Change, DEFAULT_WORKSPACE_NAME, type WorkspaceState } from '../core/types.js';
import { SWEEP_LEASE } from './leases.js';
import { inSnapshot, inTransaction } from './transaction.js';
import { diffTableOf } from './sweepStaging.js';
import { subjectKeySql } from './subjects.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** What {@link diffLinks} kept, and its counts. */
export interface LinkDiff {
  /** The diff's table (`<listing>_diff`, see `sweepStaging.ts`). */
  readonly table: string;
  /** Links whose workspace was listed: the mass-change limit's denominator. */
  readonly linked: number;
  /** Listed workspaces linked to no customer (orphans, or workspaces planning may adopt). */
  readonly unlinked: number;
  /** Links whose workspace was not listed. */
  readonly unlisted: number;
  /** Links whose last-known state the listing contradicts. */
  readonly contradicted: number;
}

/**
 * The listing against the links, in one pass: a full join of the two, keeping only what is not
 * already in step: links whose workspace was not listed, listed workspaces linked to no customer,
 * and links whose last-known name or status the listing contradicts. A steady sweep keeps
 * nothing, so the links' state, the missing marks and the orphans that follow read a small table
 * instead of each joining the whole listing again. `listed`: the workspaces the listing holds
 * (its rows, any repeat removed).
 */
export async function diffLinks(pool: pg.Pool, listing: string, listed: number): Promise<LinkDiff> {
  const table = diffTableOf(listing);
  const counts = await inSnapshot(pool, async (client) => {
    // Made again when the listing it read turned out to repeat an item (`indexStaging`).
    await client.query(`drop table if exists ${table}`);
    await client.query(
      `create unlogged table ${table} with (autovacuum_enabled = false) as
       select l.customer_id, l.workspace_id as linked_workspace_id,
              sw.workspace_id, sw.name, sw.status
         from customer_links l full join ${listing} sw on sw.workspace_id = l.workspace_id
        where l.customer_id is null or sw.workspace_id is null
           or (l.workspace_name, l.workspace_status) is distinct from (sw.name, sw.status)`,
    );
    const { rows } = await client.query<{
      unlinked: number;
      unlisted: number;
      contradicted: number;
    }>(
      `select count(*) filter (where customer_id is null)::int as unlinked,
              count(*) filter (where workspace_id is null)::int as unlisted,
              count(*) filter (where customer_id is not null and workspace_id is not null)::int
                as contradicted
         from ${table}`,
    );
    // Statistics of the (usually small) diff, so joins with it probe the links' indexes.
    await client.query(`analyze ${table}`);
    return rows[0] ?? { unlinked: 0, unlisted: 0, contradicted: 0 };
  });
  return {
    table,
    // A workspace is linked to one customer at most (a unique key), so the listed workspaces
    // that are linked are those listed less those linked to nobody: no count of the links.
    linked: listed - counts.unlinked,
    unlinked: counts.unlinked,
    unlisted: counts.unlisted,
    contradicted: counts.contradicted,
  };
}

/**
 * Workspaces of the listing linked to no customer and adopted by no change of this sweep, read
 * from the diff and checked against the links as they are now: a workspace linked since the
 * diff is no orphan.
 */
export async function orphansOf(
  db: Queryable,
  sweepId: string,
  diff: LinkDiff,
  after: string | null,
  limit: number,
): Promise<WorkspaceState[]> {
  if (diff.unlinked === 0) return [];
  const { rows } = await db.query<{ id: string; name: string; status: 'active' | 'inactive' }>(
    `select d.workspace_id as id, d.name, d.status from ${diff.table} d
      where ${orphanSql('$1', '$4')} and ($2::uuid is null or d.workspace_id > $2)
      order by d.workspace_id limit $3`,
    [sweepId, after, limit, DEFAULT_WORKSPACE_NAME],
  );
  return rows;
}

/** A diff row `d` that is an orphan now, given the placeholders of the sweep and the default name. */
const orphanSql = (sweepId: string, defaultName: string) =>
  `d.customer_id is null and lower(d.name) <> ${defaultName}
   and not exists (select 1 from customer_links l where l.workspace_id = d.workspace_id)
   and not exists (select 1 from sweep_changes sc
                    where sc.sweep_id = ${sweepId} and sc.action = 'adopt' and sc.workspace_id = d.workspace_id)`;

/** The orphans a complete listing's report ({@link replaceOrphans}) holds for this sweep. */
export async function reportedOrphans(
  db: Queryable,
  sweepId: string,
  after: string | null,
  limit: number,
): Promise<WorkspaceState[]> {
  const { rows } = await db.query<{ id: string; name: string; status: 'active' | 'inactive' }>(
    `select workspace_id as id, name, status from orphans
      where sweep_id = $1 and ($2::uuid is null or workspace_id > $2)
      order by workspace_id limit $3`,
    [sweepId, after, limit],
  );
  return rows;
}

/**
 * Replaces the orphan report with this (complete) listing's orphans: after the customers' changes
 * are recorded (a workspace this sweep adopts is no orphan).
 */
export async function replaceOrphans(
  db: pg.Pool,
  sweepId: string,
  diff: LinkDiff,
  at: Date,
): Promise<void> {
  await inTransaction(db, async (client) => {
    await client.query('delete from orphans');
    if (diff.unlinked > 0) {
      await client.query(
        `insert into orphans (workspace_id, name, status, sweep_id, seen_at)
         select d.workspace_id, d.name, d.status, $1, $2 from ${diff.table} d
          where ${orphanSql('$1', '$3')}`,
        [sweepId, at, DEFAULT_WORKSPACE_NAME],
      );
    }
  });
}

/** A planned change, or a conflict (recorded so its customer's failure can be made visible). */
export type PlannedRow = Omit<Change, 'action'> & {
  readonly action: Change['action'] | 'conflict';
};

/** Records planned changes and conflicts in bulk. */
export async function recordChanges(
  db: Queryable,
  sweepId: string,
  changes: readonly PlannedRow[],
): Promise<void> {
  if (changes.length === 0) return;
  await db.query(
    `insert into sweep_changes (sweep_id, customer_id, action, workspace_id, from_state, to_state)
     select $1, * from unnest($2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[])`,
    [
      sweepId,
      changes.map((c) => c.customerId),
      changes.map((c) => c.action),
      changes.map((c) => c.workspaceId),
      changes.map((c) => c.from),
      changes.map((c) => c.to),
    ],
  );
}

/**
 * The next batch of subjects to queue: every subject with a change not held, and conflicted
 * customers not already failed (they fail again the same way; `retry-failed` re-queues them).
 * Marks them queued and returns them with the last change id, for keyset paging.
 */
export async function nextSubjectsToQueue(
  db: Queryable,
  sweepId: string,
  afterId: number,
  limit: number,
): Promise<{ subjects: string[]; lastId: number }> {
  const { rows } = await db.query<{ id: string; subject: string }>(
    `with picked as (
       select sc.id from sweep_changes sc
        where sc.sweep_id = $1 and sc.id > $2 and not sc.held
          and not (sc.action = 'conflict' and exists (
                select 1 from sync_state st where st.subject = sc.customer_id and st.outcome = 'failed'))
        order by sc.id limit $3)
     update sweep_changes sc set queued = true from picked where sc.id = picked.id
     returning sc.id, ${subjectKeySql('sc.customer_id', 'sc.workspace_id')} as subject`,
    [sweepId, afterId, limit],
  );
  const ids = rows.map((r) => Number(r.id));
  return {
    subjects: [...new Set(rows.map((r) => r.subject))],
    lastId: ids.length ? Math.max(...ids) : afterId,
  };
}

/**
 * What the sweep's listing said of the workspace a create or adopt it planned will find by name:
 * a create from a complete listing finds a new workspace (`active`, and setting its status
 * destroys nothing); an adoption finds the one listed, with the status it had. Null: nothing known.
 */
export async function plannedFind(
  db: Queryable,
  sweepId: string,
  customerId: string,
): Promise<{ fresh: boolean; status: 'active' | 'inactive' } | null> {
  const { rows } = await db.query<{ action: string; from_state: string | null; complete: boolean }>(
    `select sc.action, sc.from_state, coalesce(s.listing_complete, false) as complete
       from sweep_changes sc join sweeps s on s.id = sc.sweep_id
      where sc.sweep_id = $1 and sc.customer_id = $2 and sc.action in ('create', 'adopt')
      limit 1`,
    [sweepId, customerId],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.action === 'create') {
    return row.from_state === null && row.complete ? { fresh: true, status: 'active' } : null;
  }
  const status = row.from_state;
  return status === 'active' || status === 'inactive' ? { fresh: false, status } : null;
}

/**
 * Refreshes the links' last-known state from this listing's diff, for every link it contradicts
 * (a complete listing also marks the links whose workspace it did not show as `missing`). Links
 * made or moved to another workspace after the listing began are left alone: their state is
 * newer than the listing.
 */
export async function refreshLinkStates(
  db: Queryable,
  diff: LinkDiff,
  listingComplete: boolean,
  listedSince: Date,
): Promise<void> {
  if (diff.contradicted > 0) {
    await db.query(
      `update customer_links l set workspace_name = d.name, workspace_status = d.status
         from ${diff.table} d
        where d.customer_id = l.customer_id and d.workspace_id = l.workspace_id
          and l.linked_at < $1
          and (l.workspace_name, l.workspace_status) is distinct from (d.name, d.status)`,
      [listedSince],
    );
  }
  if (!listingComplete || diff.unlisted === 0) return;
  await db.query(
    `update customer_links l set workspace_status = 'missing'
       from ${diff.table} d
      where d.customer_id = l.customer_id and d.workspace_id is null
        and l.workspace_id = d.linked_workspace_id
        and l.linked_at < $1 and l.workspace_status is distinct from 'missing'`,
    [listedSince],
  );
}

/** Forgets what a dry run (`plan`) recorded while it planned. */
export async function dropPlannedChanges(db: Queryable, sweepId: string): Promise<void> {
  await db.query('delete from sweep_changes where sweep_id = $1', [sweepId]);
}

/**
 * Starts the sweep's row. A sweep retaken after its daemon died starts over under the same id:
 * its row is reset and what it had planned is dropped (its staging is replaced when it lists).
 */
export async function createSweepRow(db: Queryable, id: string, trigger: string): Promise<void> {
  await db.query('delete from sweep_changes where sweep_id = $1', [id]);
  // Started on the database's clock: the destructive window is measured on it.
  await db.query(
    `insert into sweeps (id, trigger, started_at) values ($1, $2, now())
     on conflict (id) do update
       set started_at = excluded.started_at, listed_at = null, finished_at = null,
           outcome = 'running', counts = '{}', error = null, listing_complete = null,
           decided_at = null`,
    [id, trigger],
  );
}

/**
 * Updates a sweep's row. With `holder` (a real sweep's lease holder), only while that holder still
 * holds the sweep lease: a sweep retaken after its daemon was stopped runs under the same id, and
 * the stopped run, resumed, must not write its failure over the retaken run's outcome.
 */
export async function updateSweepRow(
  db: Queryable,
  id: string,
  fields: {
    listedAt?: Date;
    finishedAt?: Date;
    outcome?: string;
    counts?: Record<string, number>;
    error?: string | null;
    listingComplete?: boolean;
  },
  holder?: string,
): Promise<void> {
  await db.query(
    `update sweeps set listed_at = coalesce($2, listed_at), finished_at = coalesce($3, finished_at),
            outcome = coalesce($4, outcome), counts = coalesce($5, counts), error = coalesce($6, error),
            listing_complete = coalesce($7, listing_complete)
      where id = $1
        and ($8::text is null
             or exists (select 1 from leases where name = $9 and holder = $8))`,
    [
      id,
      fields.listedAt ?? null,
      fields.finishedAt ?? null,
      fields.outcome ?? null,
      fields.counts ? JSON.stringify(fields.counts) : null,
      fields.error ?? null,
      fields.listingComplete ?? null,
      holder ?? null,
      SWEEP_LEASE,
    ],
  );
}

/**
 * Marks failed every sweep still `running` but `current`: called by the sweep lease's new holder,
 * when no other sweep can be alive (a live one renews its lease), so those were left by dead or
 * stopped daemons.
 */
export async function failAbandonedSweeps(
  db: Queryable,
  current: string,
  at: Date,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `update sweeps set outcome = 'failed', finished_at = $2,
            error = 'abandoned: its daemon stopped before finishing (the next sweep took the lock)'
      where outcome = 'running' and id <> $1
      returning id`,
    [current, at],
  );
  return rows.map((r) => r.id);
}
