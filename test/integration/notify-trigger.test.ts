/**
 * The change trigger lives on the user's own tables: it must never hurt the user's writes, nor
 * their readers. A write whose id no NOTIFY can carry still commits (the sweep finds the row); an
 * update that changes nothing the source exposes sends nothing (no sync queued); and `migrate`
 * re-run beside a long transaction takes no lock when the trigger is already right, and when it
 * must change it waits only `--lock-timeout`, never freezing the table's readers.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';

import { CHANNEL } from '../../src/sync/notifications.js';
import { type Harness, startHarness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { cli } from '../support/cli.js';

/** The user's table, a view of it exposing id, name, status, and a column touched on every login. */
const SCHEMA = `
  create schema app;
  create table app.organizations (
    org_id bigint primary key,
    display_name text,
    billing_state text not null default 'active',
    archived_at timestamptz,
    last_seen timestamptz
  );
  create view app.organizations_source as
    select org_id::text as id, display_name as name,
           case billing_state when 'past_due' then 'inactive' else 'active' end as status
      from app.organizations
     where archived_at is null;
  create table app.accounts (account_ref text, label text);
  insert into app.organizations (org_id, display_name)
    select i, 'Org ' || i from generate_series(1, 50) i;
`;

const ENV = {
  CUSTOMERS_SOURCE: 'app.organizations_source',
  CUSTOMERS_NOTIFY_TABLES: 'app.organizations(org_id), app.accounts(account_ref)',
};

let h: Harness | undefined;
const clients: pg.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => {});
  await h?.close();
  h = undefined;
});

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

/**
 * The ids notified by whatever `write` commits, in order. A marker sent after it arrives after
 * everything the write sent (notifications are delivered in commit order), so "nothing" is seen
 * without waiting a blind while.
 */
async function notified(url: string, write: () => Promise<unknown>): Promise<string[]> {
  const listener = await connect(url);
  const got: string[] = [];
  let markerSeen: () => void = () => {};
  const marker = new Promise<void>((resolve) => (markerSeen = resolve));
  listener.on('notification', (m) => {
    if (m.channel !== CHANNEL) return;
    if (m.payload === '--marker--') markerSeen();
    else got.push(m.payload ?? '');
  });
  await listener.query(`listen ${CHANNEL}`);
  await write();
  await listener.query(`select pg_notify($1, '--marker--')`, [CHANNEL]);
  await marker;
  await listener.end();
  return got;
}

describe('the change trigger never hurts the user', () => {
  it("a write whose id no NOTIFY can carry still commits, on our table and on the user's", async () => {
    h = await startHarness({ env: ENV });
    const { pool } = h.database;
    await pool.query(SCHEMA);
    expect((await cli(h.env, ['migrate'])).code).toBe(0);
    const long = 'x'.repeat(8_100);
    const sent = await notified(h.database.url, async () => {
      await pool.query(`insert into customers (id, name) values ($1, 'Long Id Co')`, [long]);
      await pool.query(`update customers set name = 'Long Id Co 2' where id = $1`, [long]);
      await pool.query(`delete from customers where id = $1`, [long]);
      await pool.query(`insert into app.accounts values ($1, 'a')`, [long]);
      await pool.query(`insert into app.accounts values (null, 'no id')`);
      await pool.query(`insert into customers (id, name) values ('cus_short', 'Short Co')`);
    });
    // The long ids are left to the sweep; an ordinary write beside them still notifies.
    expect(sent).toEqual(['cus_short']);
    const { rows } = await pool.query(`select count(*)::int as n from app.accounts`);
    expect(rows[0].n).toBe(2);
  });

  it('an update that changes no column the source reads sends nothing', async () => {
    h = await startHarness({ env: ENV });
    const { pool } = h.database;
    await pool.query(SCHEMA);
    const migrated = await cli(h.env, ['migrate']);
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toContain(
      'note: app.accounts(account_ref): app.organizations_source does not read this table; every change to a row notifies',
    );
    await pool.query(`alter table customers add column last_seen timestamptz`);
    await pool.query(
      `insert into customers (id, name) select 'cus_' || i, 'Co ' || i from generate_series(1, 50) i`,
    );
    // 500 logins over 50 rows, on our table and on the user's: not one notification.
    const logins = await notified(h.database.url, async () => {
      for (let round = 0; round < 10; round++) {
        await pool.query(`update customers set last_seen = now()`);
        await pool.query(`update app.organizations set last_seen = now()`);
      }
      await pool.query(`update customers set name = name where id = 'cus_1'`);
    });
    expect(logins).toEqual([]);
    // What the source does read notifies: a name, a status, a row leaving the view's filter.
    const changes = await notified(h.database.url, async () => {
      await pool.query(`update customers set name = 'Co 1 Renamed' where id = 'cus_1'`);
      await pool.query(`update customers set status = 'inactive' where id = 'cus_2'`);
      await pool.query(`update app.organizations set display_name = 'New' where org_id = 1`);
      await pool.query(`update app.organizations set billing_state = 'past_due' where org_id = 2`);
      await pool.query(`update app.organizations set archived_at = now() where org_id = 3`);
      await pool.query(`update app.organizations set org_id = 99 where org_id = 4`);
    });
    expect(changes).toEqual(['cus_1', 'cus_2', '1', '2', '3', '99', '4']);
  });

  it('migrate beside a long transaction: no lock when the trigger is right, a short wait and a clear error when it must change', async () => {
    h = await startHarness({ env: ENV });
    const { pool } = h.database;
    await pool.query(SCHEMA);
    expect((await cli(h.env, ['migrate'])).code).toBe(0);
    // A writer's transaction left open on the table (row exclusive, and a row lock).
    const writer = await connect(h.database.url);
    await writer.query('begin');
    await writer.query(`update app.organizations set last_seen = now() where org_id = 1`);
    const reader = await connect(h.database.url);
    await reader.query(`set statement_timeout = '3s'`);
    // Reads the table once migrate has finished or queued for a lock on it: a reader must never
    // queue behind it.
    const readWhile = async <T>(work: Promise<T>): Promise<T> => {
      let done = false;
      void work.finally(() => (done = true));
      await waitFor(
        async () =>
          done ||
          (
            await pool.query<{ waiting: boolean }>(
              `select exists (select 1 from pg_locks
                               where relation = 'app.organizations'::regclass
                                 and not granted) as waiting`,
            )
          ).rows[0]?.waiting,
        { timeoutMs: 10_000, what: 'migrate to finish or wait for its lock' },
      );
      const started = Date.now();
      const read = await reader.query('select count(*)::int as n from app.organizations');
      expect(read.rows[0].n).toBe(50);
      expect(Date.now() - started).toBeLessThan(2_000);
      return work;
    };

    const started = Date.now();
    const again = await readWhile(cli(h.env, ['migrate']));
    expect(again).toMatchObject({ code: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);

    // A trigger installed by an older version (its arguments differ): it must change, and waits
    // for the writer no longer than the lock timeout, then says what to do.
    await writer.query('rollback');
    await pool.query(
      `drop trigger customer_sync_notify on app.organizations;
       create trigger customer_sync_notify after insert or update or delete on app.organizations
         for each row execute function customer_sync_notify_column('org_id')`,
    );
    // A daemon started meanwhile says so.
    await h.startDaemon();
    expect(h.logs.join('\n')).toContain(
      'the change trigger on these tables is missing or out of date',
    );
    await writer.query('begin');
    await writer.query(`update app.organizations set last_seen = now() where org_id = 1`);
    const changing = Date.now();
    const refused = await readWhile(cli(h.env, ['migrate', '--lock-timeout', '1s']));
    expect(Date.now() - changing).toBeLessThan(10_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('app.organizations');
    expect(refused.stderr).toContain('within 1s');
    expect(refused.stderr).toContain('run migrate again');
    // Once the writer is gone, the same command puts the trigger right.
    await writer.query('rollback');
    expect((await cli(h.env, ['migrate', '--lock-timeout', '1s'])).code).toBe(0);
    const { rows } = await pool.query<{ def: string }>(
      `select pg_get_triggerdef(oid) as def from pg_trigger
        where tgrelid = 'app.organizations'::regclass and tgname = 'customer_sync_notify'`,
    );
    // The id column, then what the view reads of the table: not last_seen.
    expect(rows[0]?.def).toContain(
      `customer_sync_notify_column('org_id', 'org_id', 'display_name', 'billing_state', 'archived_at')`,
    );
  });
});
