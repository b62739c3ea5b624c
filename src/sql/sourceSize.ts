/**
 * The customers source's size, as the destructive gate and the sweep judge an outage by it
 * (`sourceOutage` in the planner): the rows it returns now, the size last accepted
 * (`source_size`), and the customers linked to a workspace.
 *
 * Cost: two `count(*)`s (the source, the links) and one row; at 1M customers and 1M links about
 * 80 ms each on the reference machine. The gate counts only for a change of a customer whose row
 * left the source, the one kind an outage makes (see `sync/gate.ts`).
 */
import type pg from 'pg';

import type { SourceSize } from '../core/sourceOutage.js';
import type { CustomerSource } from './source.js';

type Queryable = Pick<pg.Pool, 'query'>;

/** The source's size now, the size last accepted, and the links. */
export async function measureSource(db: Queryable, source: CustomerSource): Promise<SourceSize> {
  const [size, links] = [
    await sourceRows(db, source),
    await db.query<{ linked: string }>('select count(*) as linked from customer_links'),
  ];
  return { ...size, linked: Number(links.rows[0]?.linked ?? 0) };
}

/** The rows the source returns now (one `count(*)`), and its size last accepted. */
export async function sourceRows(
  db: Queryable,
  source: CustomerSource,
): Promise<Omit<SourceSize, 'linked'>> {
  const { rows } = await db.query<{ rows: string; accepted: string | null }>(
    `select (select count(*) from ${await source.relation(db)} c) as rows,
            (select row_count from source_size) as accepted`,
  );
  const row = rows[0];
  return {
    rows: Number(row?.rows ?? 0),
    accepted: row?.accepted == null ? null : Number(row.accepted),
  };
}

/** Does the source return a row for this customer now? (One probe by id.) */
export async function inSource(
  db: Queryable,
  source: CustomerSource,
  customerId: string,
): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from ${await source.relation(db)} c where c.id = $1 limit 1`,
    [customerId],
  );
  return rows.length > 0;
}

/**
 * Records `rows` as the source's accepted size: `by` a sweep that found no outage, or a person
 * whose approval says the smaller source is right.
 */
export async function acceptSourceSize(db: Queryable, rows: number, by: string): Promise<void> {
  await db.query(
    `insert into source_size (singleton, row_count, at, accepted_by) values (true, $1, now(), $2)
     on conflict (singleton) do update
       set row_count = excluded.row_count, at = excluded.at, accepted_by = excluded.accepted_by`,
    [rows, by],
  );
}

/** Accepts the source's size as it is now (an approval of a change an outage held). */
export async function acceptCurrentSourceSize(
  db: Queryable,
  source: CustomerSource,
  by: string,
): Promise<void> {
  const { rows } = await measureSource(db, source);
  await acceptSourceSize(db, rows, by);
}
