/**
 * A database's tables as Postgres itself prints them (format_type, pg_get_expr,
 * pg_get_constraintdef, pg_get_indexdef), so two databases built by different SQL compare equal
 * exactly when they hold the same tables, columns, constraints and indexes. Only the `public`
 * schema; functions, triggers and sequences are left out (drizzle does not describe them).
 */
import type pg from 'pg';

export interface TableShape {
  /** `unlogged` or `logged`. */
  persistence: string;
  /** By column name: `<type>[ not null][ default <expr>]`. */
  columns: Record<string, string>;
  /** By constraint name: its definition (primary key, unique, check, foreign key). */
  constraints: Record<string, string>;
  /** By index name: its definition (method, columns or expressions, predicate). */
  indexes: Record<string, string>;
}

export type Catalog = Record<string, TableShape>;

export async function readCatalog(db: pg.Pool | pg.Client): Promise<Catalog> {
  const catalog: Catalog = {};
  const tables = await db.query<{ name: string; persistence: string }>(
    `select c.relname as name, c.relpersistence as persistence
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')
      order by 1`,
  );
  for (const t of tables.rows) {
    catalog[t.name] = {
      persistence: t.persistence === 'u' ? 'unlogged' : 'logged',
      columns: {},
      constraints: {},
      indexes: {},
    };
  }
  const shape = (table: string): TableShape => catalog[table] as TableShape;
  const columns = await db.query<{ table: string; name: string; def: string }>(
    `select c.relname as table, a.attname as name,
            format_type(a.atttypid, a.atttypmod)
              || case when a.attnotnull then ' not null' else '' end
              || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') as def
       from pg_attribute a
       join pg_class c on c.oid = a.attrelid
       join pg_namespace n on n.oid = c.relnamespace
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0
        and not a.attisdropped`,
  );
  for (const c of columns.rows) shape(c.table).columns[c.name] = c.def;
  const constraints = await db.query<{ table: string; name: string; def: string }>(
    `select c.relname as table, k.conname as name, pg_get_constraintdef(k.oid) as def
       from pg_constraint k
       join pg_class c on c.oid = k.conrelid
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public'`,
  );
  for (const k of constraints.rows) shape(k.table).constraints[k.name] = k.def;
  const indexes = await db.query<{ table: string; name: string; def: string }>(
    `select tablename as table, indexname as name, indexdef as def
       from pg_indexes where schemaname = 'public'`,
  );
  for (const i of indexes.rows) shape(i.table).indexes[i.name] = i.def;
  return catalog;
}
