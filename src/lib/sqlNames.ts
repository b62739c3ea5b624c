/**
 * Postgres relation and column names read from configuration (`CUSTOMERS_SOURCE`,
 * `CUSTOMERS_NOTIFY_TABLES`): parsed with Postgres's own rules (an unquoted identifier is folded to
 * lower case, a "quoted" one is kept as written) and always quoted again when spliced into SQL,
 * so no configured text reaches a statement unchecked.
 */

/** A table or view name, optionally schema-qualified. */
export interface RelationName {
  readonly schema: string | null;
  readonly name: string;
}

/** A base table whose writes wake the daemons, and the column holding the customer's id. */
export interface NotifyTable {
  readonly table: RelationName;
  readonly idColumn: string;
}

const PART = /^(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))/;

/** Reads one identifier at the start of `text`: its value and the rest, or undefined. */
function identifier(text: string): { value: string; rest: string } | undefined {
  const match = PART.exec(text);
  if (!match) return undefined;
  const value = match[1] !== undefined ? match[1].replaceAll('""', '"') : match[2]!.toLowerCase();
  // Postgres truncates longer names silently: refuse them rather than name another relation.
  if (Buffer.byteLength(value) > 63) return undefined;
  return { value, rest: text.slice(match[0].length) };
}

function relationAt(text: string): { relation: RelationName; rest: string } | undefined {
  const first = identifier(text.trim());
  if (!first) return undefined;
  if (!first.rest.startsWith('.')) {
    return { relation: { schema: null, name: first.value }, rest: first.rest };
  }
  const second = identifier(first.rest.slice(1));
  if (!second) return undefined;
  return { relation: { schema: first.value, name: second.value }, rest: second.rest };
}

/** `customers`, `app.organizations_source`, `"Billing"."Accounts"`; undefined when malformed. */
export function parseRelationName(raw: string): RelationName | undefined {
  const parsed = relationAt(raw);
  return parsed && parsed.rest.trim() === '' ? parsed.relation : undefined;
}

/** `organizations(org_id), app.teams(id)`; undefined when any entry is malformed. */
export function parseNotifyTables(raw: string): NotifyTable[] | undefined {
  const tables: NotifyTable[] = [];
  for (const entry of raw.split(',')) {
    const parsed = relationAt(entry);
    if (!parsed) return undefined;
    const open = parsed.rest.trimStart();
    if (!open.startsWith('(')) return undefined;
    const column = identifier(open.slice(1).trim());
    if (!column || column.rest.trim() !== ')') return undefined;
    tables.push({ table: parsed.relation, idColumn: column.value });
  }
  return tables;
}

/** An identifier quoted for SQL (`"` doubled), whatever it holds. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** A relation quoted for SQL: `"schema"."name"`, or `"name"` resolved by the search path. */
export const quoteRelation = (r: RelationName): string =>
  r.schema === null ? quoteIdent(r.name) : `${quoteIdent(r.schema)}.${quoteIdent(r.name)}`;

/** How a relation is shown to a person (as it would be typed). */
export const showRelation = (r: RelationName): string => {
  const show = (s: string) => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : quoteIdent(s));
  return r.schema === null ? show(r.name) : `${show(r.schema)}.${show(r.name)}`;
};

/** Whether the source is customer-sync's own `customers` table (the default). */
export const isOwnCustomers = (r: RelationName): boolean =>
  r.name === 'customers' && (r.schema === null || r.schema === 'public');
