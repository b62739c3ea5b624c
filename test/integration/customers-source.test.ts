/**
 * The user's own table as the source (CUSTOMERS_SOURCE): an `organizations` table with its own
 * column names and billing states, mapped and scoped by a view, through `migrate`, `plan`, a
 * sweep, a direct write, a billing webhook, and rows that leave the view.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { planSweep } from '../../src/ops/plan.js';
import { signStandardWebhooks } from '../support/webhookSigners.js';
import { type Harness, startHarness } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const GRACE_MS = 3_000;

/** The user's world: their table, their states, and the view that maps it onto ours. */
const SCHEMA = `
  create schema app;
  create table app.organizations (
    org_id bigint primary key,
    display_name text not null,
    billing_state text not null
      check (billing_state in ('trialing', 'active', 'past_due', 'canceled')),
    archived_at timestamptz
  );
  create view app.organizations_source as
    select org_id::text as id,
           display_name as name,
           case billing_state when 'past_due' then 'inactive'
                              when 'canceled' then 'deleted'
                              else 'active' end as status
      from app.organizations
     where archived_at is null;
  insert into app.organizations (org_id, display_name, billing_state, archived_at) values
    (1, 'Acme', 'active', null),
    (2, 'Globex', 'trialing', null),
    (3, 'Initech', 'past_due', null),
    (4, 'Umbrella', 'canceled', null),
    (5, 'Hooli', 'active', now()),
    (6, 'Acme', 'active', null);
`;

const ENV = {
  CUSTOMERS_SOURCE: 'app.organizations_source',
  CUSTOMERS_NOTIFY_TABLES: 'app.organizations(org_id)',
  BILLING_WEBHOOK_SECRET: SECRET,
  DELETE_GRACE: `${GRACE_MS / 1000}s`,
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const cli = (env: Record<string, string>, ...args: string[]) =>
  run('npx', ['tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env } });

async function withSchema(env: Record<string, string> = {}): Promise<Harness> {
  const harness = await startHarness({ env: { ...ENV, ...env } });
  await harness.database.pool.query(SCHEMA);
  return harness;
}

async function send(url: string, id: string, type: string, data: Record<string, string>) {
  const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
  const headers = signStandardWebhooks(SECRET, body, {
    timestamp: Math.floor(Date.now() / 1000),
    id,
  });
  const answer = await request(`${url}/webhooks/billing`, { method: 'POST', headers, body });
  return { status: answer.statusCode, body: await answer.body.json() };
}

const triggersOn = async (harness: Harness) =>
  (
    await harness.database.pool.query<{ n: number }>(
      `select count(*)::int as n from pg_trigger
        where tgrelid = 'app.organizations'::regclass and tgname = 'customer_sync_notify'`,
    )
  ).rows[0]?.n;

describe('CUSTOMERS_SOURCE: an organizations table mapped by a view', () => {
  it('migrate checks the source and says what is missing; installs and uninstalls the trigger', async () => {
    h = await withSchema();
    // The base table is not shaped like a source: every missing column named, nothing altered.
    await expect(
      cli({ ...h.env, CUSTOMERS_SOURCE: 'app.organizations' }, 'migrate'),
    ).rejects.toMatchObject({
      code: expect.any(Number),
      stderr: expect.stringContaining(
        'CUSTOMERS_SOURCE app.organizations: column id is missing (text or varchar); column name is missing (text or varchar); column status is missing (text, varchar or an enum)',
      ),
    });
    expect(await triggersOn(h)).toBe(0);

    const ok = await cli(h.env, 'migrate');
    expect(ok.stdout).toContain('source app.organizations_source: id, name, status present');
    expect(ok.stdout).toContain('change trigger installed on app.organizations(org_id)');
    expect(await triggersOn(h)).toBe(1);
    const { rows: columns } = await h.database.pool.query(
      `select column_name from information_schema.columns
        where table_schema = 'app' and table_name = 'organizations' order by 1`,
    );
    expect(columns.map((c) => c.column_name)).toEqual([
      'archived_at',
      'billing_state',
      'display_name',
      'org_id',
    ]);

    const removed = await cli(h.env, 'migrate', '--uninstall-triggers');
    expect(removed.stdout).toContain('change trigger removed from app.organizations');
    expect(await triggersOn(h)).toBe(0);
  });

  it('plan, a sweep, a direct write, a webhook, and a row leaving the view', async () => {
    h = await withSchema();
    await cli(h.env, 'migrate');
    const app = h.app();

    // plan: the view's rows with the view's states; archived rows are not in; the second
    // "Acme" clashes with the first, which claims the name first (no created_at: by id).
    const plan = await planSweep(app);
    const planned = (id: string) => plan.changes.filter((c) => c.customerId === id);
    expect(planned('1').map((c) => c.action)).toEqual(['create']);
    expect(planned('2').map((c) => c.action)).toEqual(['create']);
    expect(planned('3').map((c) => c.action)).toContain('create');
    expect(planned('4')).toEqual([]);
    expect(planned('5')).toEqual([]);
    expect(plan.conflicts.map((c) => c.customerId)).toEqual(['6']);

    const daemon = await h.startDaemon();
    await sweepAndWait(app);
    const store = h.sim.store;
    expect(store.findByName('Acme')?.status).toBe('active');
    expect(store.findByName('Globex')?.status).toBe('active');
    expect(store.findByName('Initech')?.status).toBe('inactive');
    expect(store.findByName('Umbrella')).toBeUndefined();
    expect(store.findByName('Hooli')).toBeUndefined();
    expect((await planSweep(app)).changes).toEqual([]);

    // A direct write to the user's table reaches the engine through the installed trigger.
    const wrote = Date.now();
    await h.database.pool.query(
      `insert into app.organizations values (7, 'Soylent', 'trialing', null)`,
    );
    await waitFor(() => store.findByName('Soylent'), { timeoutMs: 3_000, what: 'Soylent' });
    console.log(`direct write to the workspace: ${Date.now() - wrote} ms`);

    // A webhook is a notification: its sync reads the source, not the event's fields. The
    // rename is written with the trigger quiet, so only the webhook can bring it.
    const globex = store.findByName('Globex')!;
    const client = await h.database.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local customer_sync.quiet = 'on'`);
      await client.query(
        `update app.organizations set display_name = 'Globex Intl' where org_id = 2`,
      );
      await client.query('commit');
    } finally {
      client.release();
    }
    const answer = await send(daemon.url, 'msg_1', 'customer.updated', { id: '2', name: 'Nope' });
    expect(answer).toEqual({ status: 200, body: { status: 'applied' } });
    await waitFor(() => store.get(globex.id)?.name === 'Globex Intl', {
      timeoutMs: 3_000,
      what: 'the rename read from the source',
    });
    expect(await send(daemon.url, 'msg_1', 'customer.updated', { id: '2' })).toEqual({
      status: 200,
      body: { status: 'duplicate' },
    });
    const { rows: ours } = await h.database.pool.query('select id from customers');
    expect(ours).toEqual([]);

    // A row filtered out of the view: deactivated at once, deleted only after the grace.
    const acme = store.findByName('Acme')!;
    const archived = Date.now();
    await h.database.pool.query(
      `update app.organizations set archived_at = now() where org_id = 1`,
    );
    await waitFor(() => store.get(acme.id)?.status === 'inactive', {
      timeoutMs: 3_000,
      what: 'deactivation',
    });
    expect(Date.now() - archived).toBeLessThan(GRACE_MS);
    await waitFor(() => store.get(acme.id) === undefined, {
      timeoutMs: GRACE_MS + 10_000,
      what: 'the delete after the grace',
    });
    expect(Date.now() - archived).toBeGreaterThanOrEqual(GRACE_MS);
    // The simulator forgets the workspace before the worker records the answer: wait for the
    // audit to settle (a CI run read the delete's row while it was still `started`).
    const { pool } = h.database;
    const audit = await waitFor(
      async () => {
        const { rows } = await pool.query<{
          action: string;
          outcome: string;
          message: string | null;
        }>(`select action, outcome, message from audit where customer_id = '1' order by id`);
        return rows.some((r) => r.outcome === 'started') ? undefined : rows;
      },
      { timeoutMs: 5_000, what: 'the audit to settle' },
    );
    expect(audit.map((a) => `${a.action} ${a.outcome} ${a.message ?? ''}`.trim())).toEqual([
      'create ok',
      'deactivate ok',
      'delete ok',
    ]);
  });

  it('a row deleted from the table is a deleted customer: the mass-change gate holds its change', async () => {
    h = await withSchema({ MAX_DESTRUCTIVE_PER_SWEEP: '0', MAX_DESTRUCTIVE_SHARE: '1%' });
    await cli(h.env, 'migrate');
    const app = h.app();
    await h.startDaemon();
    await sweepAndWait(app);
    const globex = h.sim.store.findByName('Globex')!;

    await h.database.pool.query('delete from app.organizations where org_id = 2');
    const held = await waitFor(
      async () =>
        (
          await h!.database.pool.query(
            `select customer_id, action, state from holds where customer_id = '2'`,
          )
        ).rows[0],
      { timeoutMs: 3_000, what: 'the held deactivation' },
    );
    expect(held).toEqual({ customer_id: '2', action: 'deactivate', state: 'held' });
    expect(h.sim.store.get(globex.id)?.status).toBe('active');
    // The link is still there: the workspace is this customer's, not an orphan.
    const { rows } = await h.database.pool.query(
      `select workspace_id from customer_links where customer_id = '2'`,
    );
    expect(rows).toEqual([{ workspace_id: globex.id }]);
    // The sweep sees it the same way: a deactivation of customer 2, not an orphan.
    const plan = await planSweep(app);
    expect(plan.changes.filter((c) => c.customerId === '2').map((c) => c.action)).toEqual([
      'deactivate',
    ]);
    expect(plan.orphans).toEqual([]);
  });

  it('our own table too: a deleted row no longer cascades its link away, it is a deleted customer', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'cus_gone', name: 'Gone Co' },
      { id: 'cus_quiet', name: 'Quiet Co' },
      // Enough others that two rows leaving stay within MAX_DESTRUCTIVE_SHARE (10%): more would
      // be a source outage, held whatever the fleet's size (source-outage.test.ts).
      ...Array.from({ length: 20 }, (_, i) => ({ id: `cus_other_${i}`, name: `Other ${i}` })),
    ]);
    const app = h.app();
    await h.startDaemon();
    await sweepAndWait(app);
    const store = h.sim.store;
    const gone = store.findByName('Gone Co')!;
    const quiet = store.findByName('Quiet Co')!;
    // Through the change trigger: the sync reads the link without its row.
    await h.database.pool.query(`delete from customers where id = 'cus_gone'`);
    await waitFor(() => store.get(gone.id)?.status === 'inactive', {
      timeoutMs: 3_000,
      what: 'deactivation',
    });
    // With the trigger quiet, only the sweep can find it: the same decision.
    const client = await h.database.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local customer_sync.quiet = 'on'`);
      await client.query(`delete from customers where id = 'cus_quiet'`);
      await client.query('commit');
    } finally {
      client.release();
    }
    await sweepAndWait(app);
    expect(store.get(quiet.id)?.status).toBe('inactive');
    const { rows } = await h.database.pool.query(
      `select customer_id, delete_due_at > now() + interval '6 days' as later from customer_links
        where customer_id not like 'cus_other_%' order by customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'cus_gone', later: true },
      { customer_id: 'cus_quiet', later: true },
    ]);
    const { rows: orphans } = await h.database.pool.query('select workspace_id from orphans');
    expect(orphans).toEqual([]);
  });
});
