/**
 * The source of customers (`CUSTOMERS_SOURCE`): our own `customers` table, or any table or view
 * of the user's with `id`, `name`, `status`. Every read of customers goes through
 * {@link CustomerSource.relation}, which gives the source as one relation with the columns the
 * queries use: `id`, `name`, `status`, `created_at`, `updated_at`, `region`.
 *
 * A user's source may lack `created_at` (the planner's tie-break between two customers wanting
 * one name) and `updated_at` (the console's "changed since its last sync"): they read as null
 * then, so name claimants are ordered by id alone, and a customer counts as changed only through
 * its sync's outcome. A status other than the three reads as `inactive`: reversible, never
 * destructive, and `migrate` reports such rows. A source without a text `region` reads it as null:
 * every workspace is minted in `DEFAULT_REGION`.
 */
import type pg from 'pg';

import { ConfigError } from '../config.js';
import { isOwnCustomers, quoteRelation, type RelationName, showRelation } from '../lib/sqlNames.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface CustomerSource {
  readonly name: RelationName;
  /** The configured name, as a person would type it. */
  readonly shown: string;
  /** Our own `customers` table: webhooks write into it, and its own trigger wakes the daemons. */
  readonly own: boolean;
  /** The source as SQL for a `from` clause; its shape is read once, at first use. */
  relation(db: Queryable): Promise<string>;
}

interface Column {
  name: string;
  type: string;
  category: string;
}

/** The source named by `name`; the user's shape is read from the catalog at first use. */
export function customerSource(name: RelationName): CustomerSource {
  const own = isOwnCustomers(name);
  const shown = showRelation(name);
  let resolved: Promise<string> | undefined;
  return {
    name,
    shown,
    own,
    relation: (db) => {
      if (own) return Promise.resolve(quoteRelation(name));
      resolved ??= relationOf(db, name).catch((error: unknown) => {
        resolved = undefined;
        throw error;
      });
      return resolved;
    },
  };
}

async function relationOf(db: Queryable, name: RelationName): Promise<string> {
  const columns = await columnsOf(db, name);
  if (columns === null) {
    throw new ConfigError(
      `CUSTOMERS_SOURCE ${showRelation(name)} does not exist (run migrate to check the source)`,
    );
  }
  const problems = shapeProblems(columns);
  if (problems.length > 0) {
    throw new ConfigError(`CUSTOMERS_SOURCE ${showRelation(name)}: ${problems.join('; ')}`);
  }
  const time = (column: string) =>
    columns.some((c) => c.name === column && c.category === 'D')
      ? `${column}::timestamptz as ${column}`
      : `null::timestamptz as ${column}`;
  // Postgres inlines this subquery: a view or table read through it keeps its own plans.
  return `(select id, name,
                  case when status::text in ('active', 'inactive', 'deleted') then status::text
                       else 'inactive' end as status,
                  ${time('created_at')}, ${time('updated_at')}, ${region(columns)}
             from ${quoteRelation(name)}
            where id is not null)`;
}

/** The source's `region` (text, varchar, an enum or a uuid, read as text), or null without one. */
const region = (columns: readonly Column[]) =>
  columns.some((c) => c.name === 'region' && 'SEU'.includes(c.category))
    ? 'region::text as region'
    : 'null::text as region';

/** The relation's columns, or null when there is no such table or view. */
async function columnsOf(db: Queryable, name: RelationName): Promise<Column[] | null> {
  const { rows } = await db.query<{ oid: number | null; columns: Column[] | null }>(
    `select r.oid::int as oid,
            (select json_agg(json_build_object('name', a.attname,
                                               'type', format_type(a.atttypid, a.atttypmod),
                                               'category', t.typcategory))
               from pg_attribute a join pg_type t on t.oid = a.atttypid
              where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped) as columns
       from (select to_regclass($1) as oid) r`,
    [quoteRelation(name)],
  );
  const row = rows[0];
  return row?.oid ? (row.columns ?? []) : null;
}

const REQUIRED: readonly { name: string; categories: string; expected: string }[] = [
  { name: 'id', categories: 'S', expected: 'text or varchar' },
  { name: 'name', categories: 'S', expected: 'text or varchar' },
  { name: 'status', categories: 'SE', expected: 'text, varchar or an enum' },
];

/** What the source lacks, one phrase per column (empty when it will do). */
function shapeProblems(columns: readonly Column[]): string[] {
  const problems: string[] = [];
  for (const want of REQUIRED) {
    const column = columns.find((c) => c.name === want.name);
    if (!column) problems.push(`column ${want.name} is missing (${want.expected})`);
    else if (!want.categories.includes(column.category)) {
      problems.push(
        `column ${want.name} is ${column.type}, expected ${want.expected} (cast it in a view)`,
      );
    }
  }
  return problems;
}

/**
 * `migrate`'s check of a user's source: throws a {@link ConfigError} naming what is missing;
 * otherwise returns notes on rows that read differently than the user may expect.
 */
export async function checkSource(db: Queryable, source: CustomerSource): Promise<string[]> {
  if (source.own) return [];
  await source.relation(db);
  const { rows } = await db.query<{ odd: number; example: string | null; idless: number }>(
    `select count(*) filter (where status is null
                                or status::text not in ('active', 'inactive', 'deleted'))::int as odd,
            min(status::text) filter (where status::text not in ('active', 'inactive', 'deleted'))
              as example,
            count(*) filter (where id is null)::int as idless
       from ${quoteRelation(source.name)}`,
  );
  const row = rows[0];
  const notes: string[] = [];
  if (row && row.odd > 0) {
    const example = row.example === null ? '' : ` (e.g. ${JSON.stringify(row.example)})`;
    notes.push(
      `${row.odd} row(s) of ${source.shown} have a status other than active, inactive or deleted${example}: they count as inactive`,
    );
  }
  if (row && row.idless > 0) {
    notes.push(`${row.idless} row(s) of ${source.shown} have no id: they are ignored`);
  }
  return notes;
}
