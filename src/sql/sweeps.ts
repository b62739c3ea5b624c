/**
 * The sweep's SQL: the listing staged in Postgres, the facts of each customer gathered by one
 * join per batch (so the daemon holds a batch, never the fleet), and the sweep's own records.
 */
import type pg from 'pg';

import type { Workspace } from '../agent-engine/types.js';
import { nameSql } from '../core/names.js';
import type { CustomerFacts } from '../core/planner.js';
import { type Change, DEFAULT_WORKSPACE_NAME, type WorkspaceState } from '../core/types.js';
import { toError } from '../lib/errors.js';
import { toCustomer, toLink } from './customers.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** Stages a chunk of the listing; a cursor that repeats an item is harmless. */
export async function stageWorkspaces(
  db: Queryable,
  sweepId: string,
  page: readonly Workspace[],
): Promise<void> {
  if (page.length === 0) return;
  await db.query(
    `insert into sweep_workspaces (sweep_id, workspace_id, name, status)
     select $1, * from unnest($2::uuid[], $3::text[], $4::text[])
     on conflict do nothing`,
    [sweepId, page.map((w) => w.id), page.map((w) => w.name), page.map((w) => w.status)],
  );
}

/** Stages pages as they are listed, without making the listing wait for Postgres. */
export interface StagingWriter {
  /** Buffers a page; waits only while an insert is in flight and the buffer is full. */
  add(page: readonly Workspace[]): Promise<void>;
  /** Stages what is buffered and waits for every insert; throws the first failure. */
  finish(): Promise<void>;
}

/**
 * Pages are buffered into chunks of `chunk` rows, and one chunk is inserted while the next pages
 * are fetched: the insert of chunk k overlaps the fetches of chunk k+1, so the listing runs at
 * the speed of the API, not of the API plus Postgres. At most one insert is in flight and one
 * chunk buffered, so memory stays bounded whatever the fleet size.
 */
export function stagingWriter(db: Queryable, sweepId: string, chunk = 2000): StagingWriter {
  let buffer: Workspace[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;
  const flush = async () => {
    await inFlight;
    if (failure) throw failure.error;
    const rows = buffer;
    buffer = [];
    inFlight = stageWorkspaces(db, sweepId, rows).catch((error: unknown) => {
      failure ??= { error };
    });
  };
  return {
    async add(page) {
      if (failure) throw failure.error;
      for (const w of page) buffer.push(w);
      if (buffer.length >= chunk) await flush();
    },
    async finish() {
      if (buffer.length > 0 && !failure) await flush().catch(() => {});
      await inFlight;
      if (failure) throw failure.error;
    },
  };
}

export async function dropStaging(db: Queryable, sweepId: string): Promise<void> {
  await db.query('delete from sweep_workspaces where sweep_id = $1', [sweepId]);
}

interface FactsRow {
  id: string;
  name: string;
  status: 'active' | 'inactive' | 'deleted';
  created_at: Date;
  workspace_id: string | null;
  workspace_name: string | null;
  deleted_seen_at: Date | null;
  delete_due_at: Date | null;
  linked_name: string | null;
  linked_status: 'active' | 'inactive' | null;
  named_id: string | null;
  named_name: string | null;
  named_status: 'active' | 'inactive' | null;
  named_linked_to: string | null;
  first_claimant: string | null;
}

/** An open pass over the customers the planner may change, fetched a batch at a time. */
export interface FactsCursor {
  /** Every customer in the pass's snapshot, in step or not. */
  readonly total: number;
  /** The next batch, in id order; empty at the end. */
  next(limit: number): Promise<CustomerFacts[]>;
  /** Ends the pass (and its transaction); safe to call twice. */
  close(): Promise<void>;
}

/**
 * One pass over every customer, joined with its link, the staged listing, and (for the customers
 * that need a name) whoever owns their desired name, read through a cursor so the daemon holds a
 * batch, never the fleet.
 *
 * Customers already in step are left out in SQL: linked, their workspace listed with the desired
 * name and the customer's own status, and not deleted. For those the planner decides nothing
 * (`decideLinked`: no rename, no status change, no conflict), so shipping them to the daemon only
 * to be dropped would make a steady sweep cost a full read of the fleet over the wire.
 *
 * One statement, not a batch of keyset queries: Postgres joins the three tables once (hash or
 * merge joins), where keyset batches re-read the links and the listing for every batch (a plan
 * that grew as N²/batch). `jit` is off because compiling it costs more than it saves here.
 */
export async function openCustomerFacts(
  pool: pg.Pool,
  options: { sweepId: string; template: string; listingComplete: boolean },
): Promise<FactsCursor> {
  const cName = nameSql(options.template, 'c', 2);
  const oName = nameSql(options.template, 'o', 2 + cName.params.length);
  const client = await pool.connect();
  let open = true;
  const close = async (error?: unknown) => {
    if (!open) return;
    open = false;
    try {
      await client.query(error === undefined ? 'commit' : 'rollback');
    } catch (closeError) {
      client.release(toError(closeError));
      return;
    }
    client.release(error === undefined ? undefined : toError(error));
  };
  try {
    // One snapshot for the count and the pass.
    await client.query('begin isolation level repeatable read read only');
    await client.query(`set local jit = off`);
    await client.query(`set local cursor_tuple_fraction = 1`);
    const { rows } = await client.query<{ n: number }>('select count(*)::int as n from customers');
    await client.query(
      `declare sweep_facts no scroll cursor for
       select f.id, f.name, f.status, f.created_at,
              f.workspace_id, f.workspace_name, f.deleted_seen_at, f.delete_due_at,
              f.linked_name, f.linked_status,
              nw.workspace_id as named_id, nw.name as named_name, nw.status as named_status,
              nl.customer_id as named_linked_to,
              case when f.status <> 'deleted'
                     and (f.workspace_id is null or f.linked_id is null or f.linked_name <> f.wname)
                   then (select o.id from customers o
                          where o.status <> 'deleted' and ${oName.sql} = f.wname
                          order by o.created_at, o.id collate "C" limit 1)
              end as first_claimant
         from (select c.id, c.name, c.status, c.created_at, d.wname,
                      l.workspace_id, l.workspace_name, l.deleted_seen_at, l.delete_due_at,
                      sw.workspace_id as linked_id, sw.name as linked_name, sw.status as linked_status
                 from customers c
                 cross join lateral (select ${cName.sql} as wname) d
                 left join customer_links l on l.customer_id = c.id
                 left join sweep_workspaces sw
                        on sw.sweep_id = $1 and sw.workspace_id = l.workspace_id
                where not coalesce(c.status <> 'deleted' and sw.name = d.wname
                                   and sw.status = c.status, false)
                offset 0) f
         -- Per remaining customer (offset 0 keeps f apart): an index probe by name, never a hash
         -- of the whole listing.
         left join lateral (select * from sweep_workspaces nw
                             where nw.sweep_id = $1 and nw.name = f.wname offset 0) nw on true
         left join customer_links nl on nl.workspace_id = nw.workspace_id
        order by f.id`,
      [options.sweepId, ...cName.params, ...oName.params],
    );
    return {
      total: rows[0]?.n ?? 0,
      next: async (limit) => {
        try {
          const batch = await client.query<FactsRow>(`fetch ${Math.trunc(limit)} from sweep_facts`);
          return batch.rows.map((row) => toFacts(row, options.listingComplete));
        } catch (error) {
          await close(error);
          throw error;
        }
      },
      close: () => close(),
    };
  } catch (error) {
    await close(error);
    throw error;
  }
}

function toFacts(row: FactsRow, listingComplete: boolean): CustomerFacts {
  const customer = toCustomer(row);
  const link = row.workspace_id
    ? toLink({
        customer_id: row.id,
        workspace_id: row.workspace_id,
        workspace_name: row.workspace_name ?? '',
        deleted_seen_at: row.deleted_seen_at,
        delete_due_at: row.delete_due_at,
      })
    : null;
  const linked: CustomerFacts['linked'] = !link
    ? null
    : row.linked_name !== null && row.linked_status !== null
      ? { id: link.workspaceId, name: row.linked_name, status: row.linked_status }
      : listingComplete
        ? 'missing'
        : 'unknown';
  const named =
    row.named_id && row.named_name !== null && row.named_status !== null
      ? {
          workspace: { id: row.named_id, name: row.named_name, status: row.named_status },
          linkedTo: row.named_linked_to,
        }
      : null;
  return {
    customer,
    link,
    linked,
    named,
    nameOwner: row.named_linked_to ?? row.first_claimant ?? row.id,
  };
}

/** Workspaces of the listing linked to no customer and adopted by no change of this sweep. */
export async function orphansOf(
  db: Queryable,
  sweepId: string,
  after: string | null,
  limit: number,
): Promise<WorkspaceState[]> {
  const { rows } = await db.query<{ id: string; name: string; status: 'active' | 'inactive' }>(
    `select sw.workspace_id as id, sw.name, sw.status from sweep_workspaces sw
      where sw.sweep_id = $1 and sw.name <> $4 and ($2::uuid is null or sw.workspace_id > $2)
        and not exists (select 1 from customer_links l where l.workspace_id = sw.workspace_id)
        and not exists (select 1 from sweep_changes sc
                         where sc.sweep_id = $1 and sc.action = 'adopt' and sc.workspace_id = sw.workspace_id)
      order by sw.workspace_id limit $3`,
    [sweepId, after, limit, DEFAULT_WORKSPACE_NAME],
  );
  return rows;
}

/** Replaces the orphan report with this (complete) listing's orphans. */
export async function replaceOrphans(db: pg.Pool, sweepId: string, at: Date): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('begin');
    await client.query('delete from orphans');
    await client.query(
      `insert into orphans (workspace_id, name, status, sweep_id, seen_at)
       select sw.workspace_id, sw.name, sw.status, $1, $2 from sweep_workspaces sw
        where sw.sweep_id = $1 and sw.name <> $3
          and not exists (select 1 from customer_links l where l.workspace_id = sw.workspace_id)
          and not exists (select 1 from sweep_changes sc
                           where sc.sweep_id = $1 and sc.action = 'adopt' and sc.workspace_id = sw.workspace_id)`,
      [sweepId, at, DEFAULT_WORKSPACE_NAME],
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
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

/** Customers with a live workspace at the sweep's start: the mass-change limit's denominator. */
export async function linkedCount(db: Queryable, sweepId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from customer_links l
       join sweep_workspaces sw on sw.sweep_id = $1 and sw.workspace_id = l.workspace_id`,
    [sweepId],
  );
  return rows[0]?.n ?? 0;
}

/** Marks the sweep's destructive changes held and records a hold for each. */
export async function holdDestructive(db: Queryable, sweepId: string, at: Date): Promise<number> {
  await db.query(
    `update sweep_changes set held = true where sweep_id = $1 and action in ('deactivate', 'delete')`,
    [sweepId],
  );
  const { rowCount } = await db.query(
    `insert into holds (sweep_id, customer_id, action, workspace_id, created_at)
     select sweep_id, customer_id, action, workspace_id, $2 from sweep_changes
      where sweep_id = $1 and held
     on conflict do nothing`,
    [sweepId, at],
  );
  return rowCount ?? 0;
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
     returning sc.id, coalesce(sc.customer_id, 'workspace:' || sc.workspace_id) as subject`,
    [sweepId, afterId, limit],
  );
  const ids = rows.map((r) => Number(r.id));
  return {
    subjects: [...new Set(rows.map((r) => r.subject))],
    lastId: ids.length ? Math.max(...ids) : afterId,
  };
}

export async function createSweepRow(
  db: Queryable,
  id: string,
  trigger: string,
  at: Date,
): Promise<void> {
  await db.query(`insert into sweeps (id, trigger, started_at) values ($1, $2, $3)`, [
    id,
    trigger,
    at,
  ]);
}

export async function updateSweepRow(
  db: Queryable,
  id: string,
  fields: {
    listedAt?: Date;
    finishedAt?: Date;
    outcome?: string;
    counts?: Record<string, number>;
    error?: string | null;
  },
): Promise<void> {
  await db.query(
    `update sweeps set listed_at = coalesce($2, listed_at), finished_at = coalesce($3, finished_at),
            outcome = coalesce($4, outcome), counts = coalesce($5, counts), error = coalesce($6, error)
      where id = $1`,
    [
      id,
      fields.listedAt ?? null,
      fields.finishedAt ?? null,
      fields.outcome ?? null,
      fields.counts ? JSON.stringify(fields.counts) : null,
      fields.error ?? null,
    ],
  );
}
