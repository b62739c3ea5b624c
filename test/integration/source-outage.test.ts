/**
 * Issue 24, item 1: a source that suddenly returns nothing (or far fewer rows) is an outage, not
 * a mass cancellation. With the default limits (20 and 10%) a fleet of 10 was never held: an
 * empty view, or `DELETE FROM customers`, deactivated every workspace. Now every destructive
 * change of a customer whose row left is held, whatever the fleet's size, by the sweep and by the
 * direct-write path alike, and the reason shows in `status --json` and `plan --json`.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import type { App } from '../../src/app.js';
import { approve } from '../../src/ops/approve.js';
import { planSweep } from '../../src/ops/plan.js';
import { getStatus } from '../../src/ops/status.js';
import type { PlanResult } from '../../src/ops/plan.js';
import type { StatusReport } from '../../src/ops/status.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';
import { cli } from '../support/cli.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const FLEET = Array.from({ length: 10 }, (_, i) => ({ id: `cus_${i}`, name: `Outage ${i}` }));

const CONSOLE_TOKEN = 'source-outage-console-token';

/** A console page as its operator sees it. */
async function consolePage(url: string, path: string): Promise<string> {
  const authorization = `Basic ${Buffer.from(`ops:${CONSOLE_TOKEN}`).toString('base64')}`;
  const answer = await request(`${url}${path}`, { headers: { authorization } });
  expect(answer.statusCode).toBe(200);
  return answer.body.text();
}

const inactive = (harness: Harness) =>
  harness.sim.store.list().filter((w) => w.status === 'inactive').length;

async function openHolds(app: App) {
  const s = await getStatus(app);
  return s.held;
}

describe('a source that returns no rows', () => {
  it('a view that starts returning no rows: the sweep deactivates nothing and holds every change, saying why', async () => {
    h = await startHarness({
      env: { CUSTOMERS_SOURCE: 'app.crm_source', DASHBOARD_TOKEN: CONSOLE_TOKEN },
    });
    const pool = h.database.pool;
    await pool.query(`create schema app;
      create table app.crm (id text primary key, name text not null, status text not null);
      create view app.crm_source as select id, name, status from app.crm;`);
    await pool.query(
      `insert into app.crm (id, name, status) select * from unnest($1::text[], $2::text[], $3::text[])`,
      [FLEET.map((c) => c.id), FLEET.map((c) => c.name), FLEET.map(() => 'active')],
    );
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    expect(h.sim.store.list().filter((w) => w.status === 'active')).toHaveLength(11); // and `default`

    // A bad CREATE OR REPLACE VIEW (or a permissions change): the view answers, with no rows.
    await pool.query(
      `create or replace view app.crm_source as select id, name, status from app.crm where false`,
    );
    const plan = await planSweep(daemon.app);
    expect(plan.held).toBe(true);
    expect(plan.sourceOutage?.reason).toBe('source-empty');

    const second = await sweepAndWait(daemon.app);
    expect(second.sweep?.outcome).toBe('held');
    expect(inactive(h)).toBe(0);
    const status = await getStatus(daemon.app);
    expect(status.held).toHaveLength(10);
    expect(new Set(status.held.map((x) => x.reason))).toEqual(new Set(['source-empty']));
    expect(status.sourceOutage?.reason).toBe('source-empty');
    // The console says so on the overview and beside each held change.
    expect(await consolePage(daemon.url, '/console')).toContain('data-outage="source-empty"');
    const held = await consolePage(daemon.url, '/console/held');
    expect(held).toMatch(/Source outage:<\/strong>\s*10\s*changes are/);
    expect(held.match(/data-reason="source-empty"/g)).toHaveLength(10);
  });

  it('DELETE FROM customers with a daemon running: the direct writes deactivate nothing, nor does the sweep after them', async () => {
    h = await startHarness();
    await h.customers(FLEET);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    expect(h.sim.store.count()).toBe(11);

    await h.database.pool.query('delete from customers');
    const held = await waitFor(
      async () => {
        const x = await openHolds(daemon.app);
        return x.length === 10 ? x : undefined;
      },
      { what: 'ten holds' },
    );
    await waitForIdle(daemon.app);
    expect(inactive(h)).toBe(0);
    expect(held.every((x) => x.reason === 'source-empty' && x.sweepId === null)).toBe(true);
    // As the CLI prints it.
    const json = JSON.parse((await cli(h.env, ['status', '--json'])).stdout) as StatusReport;
    expect(json.sourceOutage).toMatchObject({ reason: 'source-empty', rows: 0, linked: 10 });
    expect(json.held.map((x) => x.reason)).toEqual(Array(10).fill('source-empty'));
    expect((await cli(h.env, ['status'])).stdout).toMatch(/SOURCE OUTAGE \(source-empty\)/);
    const plan = JSON.parse((await cli(h.env, ['plan', '--json'])).stdout) as PlanResult;
    expect(plan).toMatchObject({ held: true, sourceOutage: { reason: 'source-empty', held: 10 } });

    const sweep = await sweepAndWait(daemon.app);
    expect(sweep.sweep?.outcome).toBe('held');
    expect(inactive(h)).toBe(0);
    expect(await openHolds(daemon.app)).toHaveLength(10);
  });

  it('DELETE FROM customers while no daemon listens: the next sweep holds every change', async () => {
    h = await startHarness();
    await h.customers(FLEET);
    let daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    await daemon.close();

    await h.database.pool.query('delete from customers');
    daemon = await h.startDaemon();
    const sweep = await sweepAndWait(daemon.app);
    await waitForIdle(daemon.app);
    expect(sweep.sweep?.outcome).toBe('held');
    expect(inactive(h)).toBe(0);
    const status = await getStatus(daemon.app);
    expect(status.held).toHaveLength(10);
    expect(status.held.every((x) => x.reason === 'source-empty')).toBe(true);
  });
});

describe('a source that shrinks by more than MAX_DESTRUCTIVE_SHARE', () => {
  it('one row leaving is ordinary churn; three more at once are held until a person approves', async () => {
    h = await startHarness();
    await h.customers(FLEET);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);

    // 1 of 10 is within the 10% share: deactivated as any deleted customer.
    await h.database.pool.query(`delete from customers where id = 'cus_0'`);
    await waitFor(() => inactive(h!) === 1, { what: 'the one deactivation' });

    await h.database.pool.query(`delete from customers where id in ('cus_1', 'cus_2', 'cus_3')`);
    const held = await waitFor(
      async () => {
        const x = await openHolds(daemon.app);
        return x.length === 3 ? x : undefined;
      },
      { what: 'three holds' },
    );
    await waitForIdle(daemon.app);
    expect(inactive(h)).toBe(1);
    expect(held.every((x) => x.reason === 'source-shrank')).toBe(true);
    expect((await getStatus(daemon.app)).sourceOutage?.reason).toBe('source-shrank');

    // A person says the smaller source is right: the changes go ahead, and the next sweep holds
    // nothing more.
    await approve(daemon.app, { kind: 'all' });
    await waitFor(() => inactive(h!) === 4, { what: 'the approved deactivations' });
    await waitForIdle(daemon.app);
    expect((await getStatus(daemon.app)).sourceOutage).toBeNull();
    const sweep = await sweepAndWait(daemon.app);
    expect(sweep.sweep?.outcome).toBe('ok');
  });
});
