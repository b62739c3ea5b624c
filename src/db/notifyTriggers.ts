/**
 * The change trigger on the user's base tables (`CUSTOMERS_NOTIFY_TABLES`): a direct write to a
 * table behind the source wakes the daemons as a write to our own `customers` does. `migrate`
 * installs it on exactly the listed tables (and removes it from tables no longer listed);
 * `migrate --uninstall-triggers` removes it everywhere. Only triggers of our own function are ever
 * touched: the user's tables are otherwise left as they are.
 *
 * The user's table has readers and writers of its own. A trigger already as it should be is left
 * alone, so a repeated `migrate` takes no lock on the table at all. One that must change is
 * replaced with `CREATE OR REPLACE TRIGGER` (a SHARE ROW EXCLUSIVE lock: writers wait, readers
 * never do), and removed with `DROP TRIGGER`, each under a short `lock_timeout`: behind a long
 * transaction `migrate` gives up and says so, rather than queue a lock every later query of the
 * table would wait behind.
 *
 * The trigger's arguments are the id column, then the columns of the table that the source reads
 * (found in the catalog, see {@link watchedColumns}): an UPDATE that changes none of them (a
 * `last_seen` touched on every login) sends nothing.
 */
import type pg from 'pg';

import { ConfigError } from '../config.js';
import { formatDuration } from '../lib/duration.js';
import {
  type NotifyTable,
  quoteIdent,
  quoteRelation,
  type RelationName,
  showRelation,
} from '../lib/sqlNames.js';

type Queryable = Pick<pg.Pool, 'query'>;

const TRIGGER = 'customer_sync_notify';
const FUNCTION = 'customer_sync_notify_column';
/** AFTER INSERT OR UPDATE OR DELETE, FOR EACH ROW (pg_trigger.tgtype's bits). */
const TGTYPE = 1 | 4 | 8 | 16;
/** The columns of a source table that a sync reads (`region` where there is one). */
const SOURCE_COLUMNS = ['id', 'name', 'status', 'created_at', 'region'];
/** Lock-wait failures: `lock_timeout` (55P03) and a deadlock with the user's own work (40P01). */
const LOCK_CODES = new Set(['55P03', '40P01']);

/** `organizations(org_id)`, as configured. */
export const showNotifyTable = (t: NotifyTable): string =>
  `${showRelation(t.table)}(${t.idColumn})`;

/** What `installNotifyTriggers` did, table by table (as Postgres quotes their names). */
export interface TriggerReport {
  readonly installed: string[];
  readonly unchanged: string[];
  readonly removed: string[];
  /** Things the operator should know (a listed table the source does not read). */
  readonly notes: string[];
}

interface WantedTrigger {
  readonly oid: number;
  /** Quoted for SQL. */
  readonly name: string;
  /** As a person would type it. */
  readonly shown: string;
  readonly args: string[];
}

/** The trigger each table should carry (checking it is a table with that column), with notes. */
async function wantedTriggers(
  client: Queryable,
  tables: readonly NotifyTable[],
  source: RelationName,
): Promise<{ wanted: WantedTrigger[]; notes: string[] }> {
  const wanted: WantedTrigger[] = [];
  const notes: string[] = [];
  for (const table of tables) {
    const oid = await checkTable(client, table);
    const watched = await watchedColumns(client, source, oid);
    if (!watched.read) {
      notes.push(
        `${showNotifyTable(table)}: ${showRelation(source)} does not read this table; every change to a row notifies`,
      );
    }
    const columns = watched.columns ?? [];
    const args = columns.length > 0 ? [table.idColumn, ...columns] : [table.idColumn];
    wanted.push({ oid, name: quoteRelation(table.table), shown: showRelation(table.table), args });
  }
  return { wanted, notes };
}

/**
 * Installs the trigger on each table, after checking it is a table with that column; leaves alone
 * a trigger that is already right. Each change waits at most `lockTimeoutMs` for its lock.
 */
export async function installNotifyTriggers(
  client: pg.ClientBase,
  tables: readonly NotifyTable[],
  options: { source: RelationName; lockTimeoutMs: number },
): Promise<TriggerReport> {
  const { wanted, notes } = await wantedTriggers(client, tables, options.source);
  const report: TriggerReport = { installed: [], unchanged: [], removed: [], notes };
  const present = await triggeredTables(client);
  for (const relation of present) {
    if (wanted.some((w) => w.oid === relation.oid)) continue;
    await withLockTimeout(client, relation.name, options.lockTimeoutMs, () =>
      dropOn(client, relation.name),
    );
    report.removed.push(relation.name);
  }
  for (const table of wanted) {
    const current = present.find((p) => p.oid === table.oid);
    if (current && isAsWanted(current, table.args)) {
      report.unchanged.push(current.name);
      continue;
    }
    const args = table.args.map((a) => `'${a.replaceAll("'", "''")}'`).join(', ');
    await withLockTimeout(client, table.shown, options.lockTimeoutMs, () =>
      client.query(
        `create or replace trigger ${TRIGGER} after insert or update or delete on ${table.name}
         for each row execute function ${FUNCTION}(${args})`,
      ),
    );
    report.installed.push(table.shown);
  }
  return report;
}

/**
 * The listed tables whose trigger is missing or not what `migrate` would install now (the view
 * reads other columns since, say): their writes may not all wake the daemons until `migrate`
 * runs again. Reads the catalog only.
 */
export async function staleNotifyTriggers(
  db: Queryable,
  tables: readonly NotifyTable[],
  source: RelationName,
): Promise<string[]> {
  if (tables.length === 0) return [];
  const { wanted } = await wantedTriggers(db, tables, source);
  const present = await triggeredTables(db);
  return wanted
    .filter((w) => {
      const current = present.find((p) => p.oid === w.oid);
      return !current || !isAsWanted(current, w.args);
    })
    .map((w) => w.shown);
}

/** Removes the trigger from every table that has it; returns those tables' names. */
export async function uninstallNotifyTriggers(
  client: pg.ClientBase,
  options: { lockTimeoutMs: number },
): Promise<string[]> {
  const tables = await triggeredTables(client);
  for (const table of tables) {
    await withLockTimeout(client, table.name, options.lockTimeoutMs, () =>
      dropOn(client, table.name),
    );
  }
  return tables.map((t) => t.name);
}

/** The table's oid; a missing table, a view or a missing column is one clear error. */
async function checkTable(client: Queryable, table: NotifyTable): Promise<number> {
  const { rows } = await client.query<{ oid: number | null; kind: string | null; has: boolean }>(
    `select c.oid::int as oid, c.relkind::text as kind,
            exists (select 1 from pg_attribute a
                     where a.attrelid = c.oid and a.attname = $2
                       and a.attnum > 0 and not a.attisdropped) as has
       from (select to_regclass($1) as oid) r left join pg_class c on c.oid = r.oid`,
    [quoteRelation(table.table), table.idColumn],
  );
  const row = rows[0];
  const shown = showNotifyTable(table);
  if (!row?.oid) throw new ConfigError(`CUSTOMERS_NOTIFY_TABLES: ${shown}: no such table`);
  if (row.kind !== 'r' && row.kind !== 'p') {
    throw new ConfigError(
      `CUSTOMERS_NOTIFY_TABLES: ${shown} is not a base table (list the tables behind the view)`,
    );
  }
  if (!row.has) {
    throw new ConfigError(
      `CUSTOMERS_NOTIFY_TABLES: ${shown}: ${showRelation(table.table)} has no column ${table.idColumn}`,
    );
  }
  return row.oid;
}

/**
 * The columns of `table` the source reads, as Postgres records them for the source's view and the
 * views beneath it (every column a view selects, filters or joins on: a row that leaves the view
 * is a deleted customer). When the source is the table itself, the columns a sync reads.
 *
 * Null (every change notifies) when the catalog cannot narrow it down: the views read the table
 * only as a whole row, or call a function of the user's (which may read any column, or any
 * table). `read` is false when the source does not read the table at all.
 */
async function watchedColumns(
  client: Queryable,
  source: RelationName,
  table: number,
): Promise<{ columns: string[] | null; read: boolean }> {
  const { rows } = await client.query<{
    self: boolean;
    columns: string[] | null;
    wholly: boolean;
    opaque: boolean;
  }>(
    `with recursive chain(oid) as (
       select to_regclass($1)::oid
       union
       select d.refobjid
         from chain
         join pg_rewrite r on r.ev_class = chain.oid
         join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
                         and d.refclassid = 'pg_class'::regclass and d.refobjid <> chain.oid
         join pg_class c on c.oid = d.refobjid and c.relkind in ('v', 'm')
     ),
     rules as (select r.oid, r.ev_action::text as action
                 from chain join pg_rewrite r on r.ev_class = chain.oid),
     refs as (select d.refobjsubid as attnum
                from rules join pg_depend d on d.classid = 'pg_rewrite'::regclass
                                           and d.objid = rules.oid
                                           and d.refclassid = 'pg_class'::regclass
                                           and d.refobjid = $2)
     select to_regclass($1)::oid = $2 as self,
            (select array_agg(a.attname::text order by a.attnum)
               from pg_attribute a
              where a.attrelid = $2 and a.attnum > 0 and not a.attisdropped
                and (a.attnum in (select attnum from refs)
                     or (to_regclass($1)::oid = $2 and a.attname = any($3::text[])))) as columns,
            exists (select 1 from refs where attnum = 0)
              or exists (select 1 from rules where action like '%:varattno 0 %') as wholly,
            exists (select 1 from rules
                      join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = rules.oid
                                      and d.refclassid = 'pg_proc'::regclass
                      join pg_proc p on p.oid = d.refobjid
                     where p.pronamespace not in ('pg_catalog'::regnamespace,
                                                  'information_schema'::regnamespace)) as opaque`,
    [quoteRelation(source), table, SOURCE_COLUMNS],
  );
  const row = rows[0];
  if (!row) return { columns: null, read: false };
  if (row.self) return { columns: row.columns, read: true };
  const read = row.columns !== null || row.wholly;
  return { columns: row.wholly || row.opaque ? null : row.columns, read };
}

interface PresentTrigger {
  readonly oid: number;
  readonly name: string;
  readonly args: string[];
  /** Fires after insert, update and delete, for each row, always, with no condition. */
  readonly standard: boolean;
}

/** Tables carrying our column trigger, by oid and as Postgres quotes their name. */
async function triggeredTables(client: Queryable): Promise<PresentTrigger[]> {
  const { rows } = await client.query<{
    oid: number;
    name: string;
    args: Buffer;
    standard: boolean;
  }>(
    `select t.tgrelid::int as oid, t.tgrelid::regclass::text as name, t.tgargs as args,
            t.tgtype = $3 and t.tgenabled = 'O' and t.tgqual is null and t.tgattr::text = ''
              as standard
       from pg_trigger t join pg_proc p on p.oid = t.tgfoid
      where p.proname = $1 and t.tgname = $2
      order by 2`,
    [FUNCTION, TRIGGER, TGTYPE],
  );
  return rows.map((r) => ({
    oid: r.oid,
    name: r.name,
    standard: r.standard,
    // tgargs: each argument followed by a NUL byte.
    args: r.args.toString('utf8').split('\0').slice(0, -1),
  }));
}

const isAsWanted = (present: PresentTrigger, args: readonly string[]): boolean =>
  present.standard &&
  present.args.length === args.length &&
  present.args.every((a, i) => a === args[i]);

/**
 * Runs `change` (one statement that locks `table`, named as a person would type it) waiting at most `timeoutMs` for the lock; a
 * lock not had in time is one clear error naming the table and what to do.
 */
async function withLockTimeout(
  client: pg.ClientBase,
  table: string,
  timeoutMs: number,
  change: () => Promise<unknown>,
): Promise<void> {
  await client.query(`select set_config('lock_timeout', $1, false)`, [`${timeoutMs}ms`]);
  try {
    await change();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !LOCK_CODES.has(code)) throw error;
    throw new Error(
      `could not change the change trigger on ${table} within ${formatDuration(timeoutMs)}: another transaction holds a lock on it (see pg_stat_activity), and nothing was changed there. Let that transaction end, then run migrate again (or allow a longer wait with --lock-timeout)`,
    );
  } finally {
    await client.query('reset lock_timeout');
  }
}

/** `name` is already quoted (ours, or Postgres's own `regclass` text). */
const dropOn = (client: pg.ClientBase, name: string) =>
  client.query(`drop trigger if exists ${quoteIdent(TRIGGER)} on ${name}`);
