/**
 * A workspace's name is one rule (src/core/names.ts) with two forms: `workspaceName` for the
 * planner and `nameSql`, with which the sweep finds names and their claimants in Postgres. Over
 * templates and names that could trip either (quotes, backslashes, placeholders inside a name,
 * `$1`, non-Latin letters), Postgres and TypeScript give the same name.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { nameSql, workspaceName } from '../../src/core/names.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const TEMPLATES = [
  '{name}',
  '{id}',
  'ws-{name}',
  '{name} ({id})',
  "O'{name}\\{id}$1",
  '{name}{name}',
  'plain',
];
const CUSTOMERS = [
  { id: 'c1', name: 'Acme' },
  { id: "c'2", name: "O'Brien & Sons" },
  { id: 'c3', name: '{id} $1 \\ %' },
  { id: 'c4', name: 'Ünïcode 株式会社' },
  { id: 'c5', name: '' },
];

it.each(TEMPLATES)('reads the same in TypeScript and in SQL (template %s)', async (template) => {
  const sql = nameSql(template, 't', 1);
  const n = sql.params.length;
  const { rows } = await db.pool.query<{ i: string; name: string }>(
    `select t.i, ${sql.sql} as name
       from unnest($${n + 1}::text[], $${n + 2}::text[]) with ordinality as t(id, name, i)
      order by t.i`,
    [...sql.params, CUSTOMERS.map((c) => c.id), CUSTOMERS.map((c) => c.name)],
  );
  expect(rows.map((r) => r.name)).toEqual(CUSTOMERS.map((c) => workspaceName(template, c)));
});
