import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

import { withDatabase } from '../support/global-setup.js';

const run = promisify(execFile);
const base = inject('databaseUrl');
const created: string[] = [];

function cli(databaseUrl: string, ...args: string[]) {
  return run('npx', ['tsx', 'src/cli/main.ts', ...args], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      `select tablename from pg_tables where schemaname = 'public' order by 1`,
    );
    return rows.map((r) => r.tablename);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
  await admin.connect();
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

describe('npm run cli -- migrate', () => {
  it('creates the database and schema, and a second run changes nothing', async () => {
    const name = `cs_m_${randomBytes(4).toString('hex')}`;
    created.push(name);
    const url = withDatabase(base, name);
    const first = await cli(url, 'migrate');
    expect(first.stdout).toContain('migrations applied');
    const after = await tables(url);
    expect(after).toEqual(
      expect.arrayContaining(['customers', 'customer_links', 'audit', 'holds']),
    );
    await cli(url, 'migrate');
    expect(await tables(url)).toEqual(after);
  });

  it('is safe when two hosts run it at the same time', async () => {
    const name = `cs_m_${randomBytes(4).toString('hex')}`;
    created.push(name);
    const url = withDatabase(base, name);
    const results = await Promise.allSettled([cli(url, 'migrate'), cli(url, 'migrate')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(
      'select count(*)::int as n from drizzle.__drizzle_migrations',
    );
    await client.end();
    const journal = JSON.parse(
      await readFile(new URL('../../migrations/meta/_journal.json', import.meta.url), 'utf8'),
    ) as { entries: unknown[] };
    expect(rows[0].n).toBe(journal.entries.length);
  });

  it('enforces that two customers never link to one workspace', async () => {
    const name = `cs_m_${randomBytes(4).toString('hex')}`;
    created.push(name);
    const url = withDatabase(base, name);
    await cli(url, 'migrate');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`insert into customers (id, name) values ('a', 'A'), ('b', 'B')`);
      const ws = '7d1f0b8e-4b5c-4a51-9a8e-0f3c2b1a9d10';
      await client.query(
        `insert into customer_links (customer_id, workspace_id, workspace_name) values ('a', $1, 'A')`,
        [ws],
      );
      await expect(
        client.query(
          `insert into customer_links (customer_id, workspace_id, workspace_name) values ('b', $1, 'B')`,
          [ws],
        ),
      ).rejects.toThrow(/customer_links_workspace_id_key/);
    } finally {
      await client.end();
    }
  });
});
