/**
 * The facts of each customer the planner may change, gathered by one join over customers, links
 * and the staged listing, read through a cursor a batch at a time (the daemon never holds the
 * fleet). Customers already in step (`core/inStep.ts`) are left out in SQL.
 */
import type pg from 'pg';

import { inStepSql } from '../core/inStep.js';
import { nameSql } from '../core/names.js';
import type { CustomerFacts } from '../core/planner.js';
import { toError } from '../lib/errors.js';
import { toCustomer, toLink } from './customers.js';
import { inSnapshot } from './transaction.js';
import { ORPHAN_PREFIX } from '../core/subject.js';
import type { CustomerSource } from './source.js';

interface FactsRow {
  id: string;
  name: string | null;
  status: 'active' | 'inactive' | 'deleted';
  created_at: Date | null;
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
  reported_orphan: string | null;
}

/** An open pass over the customers the planner may change, fetched a batch at a time. */
export interface FactsCursor {
  /** The next batch, in id order; empty at the end. */
  next(limit: number): Promise<CustomerFacts[]>;
  /** Ends the pass (and its transaction); safe to call twice. */
  close(): Promise<void>;
}

/**
 * Stages, while the workspaces are listed, the customers a sweep must decide besides those whose
 * link the listing contradicts: every customer not in step with its link's last-known state (no
 * link, deleted or gone from the source, or a name or status the link does not have). It reads no
 * listing, so it runs beside the list pass, and the facts pass after the listing reads these and
 * the links the listing contradicts (`diffLinks`), not the whole fleet again.
 *
 * Together they hold every customer out of step with the listing: a customer in step with its
 * link, whose listed workspace agrees with the link, is in step with the listing. A customer that
 * changes while the workspaces are listed is the change listener's (its sync is queued then) and
 * the next sweep's: it is decided from the facts as they are when the listing ends, or not at
 * all, never from older ones. Returns how many customers the source holds (the same snapshot).
 */
export async function stageCandidates(
  pool: pg.Pool,
  source: CustomerSource,
  options: { table: string; template: string },
): Promise<number> {
  const customers = await source.relation(pool);
  const cName = nameSql(options.template, 'c', 1);
  return inSnapshot(pool, async (client) => {
    await client.query(`set local jit = off`);
    await client.query(
      `create unlogged table ${options.table} with (autovacuum_enabled = false) as
       select c.id
         from (select coalesce(s.id, l.customer_id) as id,
                      -- A row without a name is not in step under its link's name.
                      case when s.id is null then l.workspace_name else s.name end as name,
                      coalesce(s.status, 'deleted') as status,
                      l.workspace_name, l.workspace_status
                 from ${customers} s
                 full join customer_links l on l.customer_id = s.id) c
        where not ${inStepSql(options.template, {
          name: 'c.name',
          status: 'c.status',
          workspaceName: 'c.workspace_name',
          workspaceStatus: 'c.workspace_status',
          desired: cName.sql,
        })}`,
      cName.params,
    );
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from ${customers} c`,
    );
    // Statistics of the (usually small) table, so the facts pass probes by id.
    await client.query(`analyze ${options.table}`);
    return rows[0]?.n ?? 0;
  });
}

/** What {@link openCustomerFacts} reads: the sweep's staging tables and how names are made. */
interface FactsOptions {
  listing: string;
  /** The customers staged by {@link stageCandidates}. */
  candidates: string;
  /** The listing's diff with the links (`diffLinks`). */
  diff: string;
  template: string;
  listingComplete: boolean;
  /**
   * When the listing began, on the database's clock (links are stamped with its `now()`). A customer linked after it was linked by a sync that saw its
   * workspace then, newer than anything the listing can say (the listing may well have passed
   * its page before the workspace existed): it is left out, not planned again from stale facts.
   */
  listedFrom: Date;
}

/**
 * One pass over the customers that may be out of step (the staged candidates and the customers of
 * the links the listing contradicts), each joined with its link, the staged listing, and (for the
 * customers that need a name) whoever owns their desired name, read through a cursor so the
 * daemon holds a batch, never the fleet.
 *
 * Customers already in step with the listing are left out in SQL (`inStepSql`, the rule of
 * `core/inStep.ts`). For those the planner decides nothing, so shipping them to the daemon only
 * to be dropped would make a steady sweep cost a full read of the fleet over the wire.
 *
 * One statement, not a batch of keyset queries: keyset batches re-read the links and the listing
 * for every batch (a plan that grew as N²/batch). `jit` is off because compiling it costs more
 * than it saves here.
 */
export async function openCustomerFacts(
  pool: pg.Pool,
  source: CustomerSource,
  options: FactsOptions,
): Promise<FactsCursor> {
  const customers = await source.relation(pool);
  const client = await pool.connect();
  const close = closerOf(client);
  try {
    // One snapshot for the count and the pass.
    await client.query('begin isolation level repeatable read read only');
    await client.query(`set local jit = off`);
    // The pass hashes the source, the links and the listing: at the default 4 MB a fleet of
    // 100k spills each hash to disk in batches; 32 MB keeps it in memory up to about 400k.
    await client.query(`set local work_mem = '32MB'`);
    await client.query(`set local cursor_tuple_fraction = 1`);
    await client.query(factsCursorQuery(customers, options));
    return {
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

/**
 * Ends the read-only transaction of `client` (commit, or rollback after `error`) and releases it,
 * once however often it is called; a client whose end fails is released as broken.
 */
function closerOf(client: pg.PoolClient): (error?: unknown) => Promise<void> {
  let open = true;
  return async (error?: unknown) => {
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
}

/** The cursor over the facts of the customers a sweep must plan (see {@link openCustomerFacts}). */
function factsCursorQuery(customers: string, options: FactsOptions): pg.QueryConfig {
  const cName = nameSql(options.template, 'c', 1);
  const oName = nameSql(options.template, 'o', 1 + cName.params.length);
  const listedFrom = 1 + cName.params.length + oName.params.length;
  const { listing, candidates, diff } = options;
  return {
    text: `declare sweep_facts no scroll cursor for
     select f.id, f.name, f.status, f.created_at,
            f.workspace_id, f.workspace_name, f.deleted_seen_at, f.delete_due_at,
            f.linked_name, f.linked_status,
            nw.workspace_id as named_id, nw.name as named_name, nw.status as named_status,
            nl.customer_id as named_linked_to,
            -- The workspace of the name, unlinked, that the last complete listing reported as an
            -- orphan: only a person adopts it (the customer's own lost mint excepted).
            case when nl.customer_id is null
                   and exists (select 1 from orphans op where op.workspace_id = nw.workspace_id)
                   and not exists (select 1 from pending_mints pm
                                    where pm.customer_id = f.id and pm.workspace_name = f.wname)
                 then nw.workspace_id end as reported_orphan,
            case when f.status <> 'deleted'
                   and (f.workspace_id is null or f.linked_id is null or f.linked_name <> f.wname)
                 then (select o.id from ${customers} o
                        where o.status <> 'deleted' and ${oName.sql} = f.wname
                        order by o.created_at, o.id collate "C" limit 1)
            end as first_claimant
       from (select c.id, c.name, c.status, c.created_at, d.wname,
                    c.workspace_id, c.workspace_name, c.deleted_seen_at, c.delete_due_at,
                    sw.workspace_id as linked_id, sw.name as linked_name, sw.status as linked_status
               -- A link whose customer left the source is a deleted customer (see readSubject).
               from (select k.id,
                            case when s.id is null then l.workspace_name else s.name end as name,
                            coalesce(s.status, 'deleted') as status, s.created_at,
                            l.workspace_id, l.workspace_name, l.deleted_seen_at, l.delete_due_at,
                            l.linked_at
                       from (select id from ${candidates}
                             union
                             select customer_id from ${diff} where customer_id is not null) k
                       left join ${customers} s on s.id = k.id
                       left join customer_links l on l.customer_id = k.id
                      where s.id is not null or l.customer_id is not null) c
               cross join lateral (select ${cName.sql} as wname) d
               left join ${listing} sw on sw.workspace_id = c.workspace_id
              where not ${inStepSql(options.template, {
                name: 'c.name',
                status: 'c.status',
                workspaceName: 'sw.name',
                workspaceStatus: 'sw.status',
                desired: 'd.wname',
              })}
                -- An id that reads as an orphan's job key is never planned as a customer.
                and not starts_with(c.id, '${ORPHAN_PREFIX}')
                and not coalesce(c.linked_at > $${listedFrom}, false)
              offset 0) f
       -- Whoever has each remaining customer's name (offset 0 keeps f apart): the few remaining
       -- customers are hashed and the listing read once against them, or not at all when
       -- none remain (a steady sweep), where indexing its names cost a pass of its own.
       left join ${listing} nw on nw.name = f.wname
       left join customer_links nl on nl.workspace_id = nw.workspace_id
      order by f.id`,
    values: [...cName.params, ...oName.params, options.listedFrom],
  };
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
    reportedOrphan: row.reported_orphan,
  };
}
