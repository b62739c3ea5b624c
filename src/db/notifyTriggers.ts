/**
 * The change trigger on the user's base tables (`CUSTOMERS_NOTIFY_TABLES`): a direct write to a
 * table behind the source wakes the daemons as a write to our own `customers` does. `migrate`
 * installs it on exactly the listed tables (and removes it from tables no longer listed);
 * `migrate --uninstall-triggers` removes it everywhere. Only triggers of our own function are ever
 * touched: the user's tables are otherwise left as they are.
 */
import type pg from 'pg';

import { ConfigError } from '../config.js';
import { type NotifyTable, quoteIdent, quoteRelation, showRelation } from '../lib/sqlNames.js';

const TRIGGER = 'customer_sync_notify';
const FUNCTION = 'customer_sync_notify_column';

/** `organizations(org_id)`, as configured. */
export const showNotifyTable = (t: NotifyTable): string =>
  `${showRelation(t.table)}(${t.idColumn})`;

/** Installs the trigger on each table, after checking it is a table with that column. */
export async function installNotifyTriggers(
  client: pg.ClientBase,
  tables: readonly NotifyTable[],
): Promise<void> {
  const oids: number[] = [];
  for (const table of tables) oids.push(await checkTable(client, table));
  await client.query('begin');
  try {
    for (const relation of await triggeredTables(client)) {
      if (!oids.includes(relation.oid)) await dropOn(client, relation.name);
    }
    for (const table of tables) {
      const name = quoteRelation(table.table);
      await dropOn(client, name);
      await client.query(
        `create trigger ${TRIGGER} after insert or update or delete on ${name}
         for each row execute function ${FUNCTION}('${table.idColumn.replaceAll("'", "''")}')`,
      );
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** Removes the trigger from every table that has it; returns those tables' names. */
export async function uninstallNotifyTriggers(client: pg.ClientBase): Promise<string[]> {
  const tables = await triggeredTables(client);
  for (const table of tables) await dropOn(client, table.name);
  return tables.map((t) => t.name);
}

/** The table's oid; a missing table, a view or a missing column is one clear error. */
async function checkTable(client: pg.ClientBase, table: NotifyTable): Promise<number> {
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

/** Tables carrying our column trigger, by oid and as Postgres quotes their name. */
async function triggeredTables(client: pg.ClientBase): Promise<{ oid: number; name: string }[]> {
  const { rows } = await client.query<{ oid: number; name: string }>(
    `select t.tgrelid::int as oid, t.tgrelid::regclass::text as name
       from pg_trigger t join pg_proc p on p.oid = t.tgfoid
      where p.proname = $1 and t.tgname = $2
      order by 2`,
    [FUNCTION, TRIGGER],
  );
  return rows;
}

/** `name` is already quoted (ours, or Postgres's own `regclass` text). */
const dropOn = (client: pg.ClientBase, name: string) =>
  client.query(`drop trigger if exists ${quoteIdent(TRIGGER)} on ${name}`);
