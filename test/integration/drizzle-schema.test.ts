/**
 * src/db/schema.ts is the schema's truth: the tables drizzle would create from it are exactly the
 * tables the migrations create. Both are built in real databases and read back from Postgres's
 * catalog, so a migration that schema.ts does not describe (or a schema.ts change no migration
 * makes) fails here, whatever SQL spelling either side used.
 */
import { randomBytes } from 'node:crypto';

import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import * as schema from '../../src/db/schema.js';
import { type Catalog, readCatalog } from '../support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { withDatabase } from '../support/global-setup.js';

const base = inject('databaseUrl');
const scratch = `cs_t_drz_${randomBytes(4).toString('hex')}`;
let migrated: TestDatabase;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** An empty database given the SQL drizzle-kit writes for schema.ts from nothing. */
async function catalogOfSchemaTs(): Promise<Catalog> {
  await admin(`CREATE DATABASE "${scratch}"`);
  const statements = await generateMigration(generateDrizzleJson({}), generateDrizzleJson(schema));
  const client = new pg.Client({ connectionString: withDatabase(base, scratch) });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
    return await readCatalog(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  migrated = await createTestDatabase();
});

afterAll(async () => {
  await migrated?.drop();
  await admin(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
});

describe('src/db/schema.ts', () => {
  it('describes every table, column, constraint and index the migrations create', async () => {
    const fromMigrations = await readCatalog(migrated.pool);
    const fromSchemaTs = await catalogOfSchemaTs();
    expect(
      fromSchemaTs,
      'src/db/schema.ts differs from what migrations/ create: describe the migration in schema.ts',
    ).toEqual(fromMigrations);
  });
});
