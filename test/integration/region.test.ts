/**
 * Issue 27 §1, data residency: a customer's `region` (or DEFAULT_REGION) is the `region_id` of
 * the mint that creates its workspace, as the simulator saw it; the link records it. A region that
 * changes after the workspace exists is reported (status --json, explain, the console page, a
 * metric) and costs no call; a region that names none fails the sync and mints nothing; a view
 * without a `region` column works as before; billing webhooks never write the region.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { renderExplanation } from '../../src/cli/commands/explain.js';
import { customerPage } from '../../src/console/pages/customer.js';
import { parseRegion, wantedRegionSql } from '../../src/core/region.js';
import { REGION_IDS } from '../../src/core/types.js';
import { explainCustomer } from '../../src/ops/explain.js';
import { getStatus } from '../../src/ops/status.js';
import { signStandardWebhooks } from '../support/webhookSigners.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const { us: US, eu: EU } = REGION_IDS;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The region each workspace was minted in, by name, as the simulator's mints recorded it. */
const mintedRegions = (harness: Harness) =>
  Object.fromEntries(harness.sim.journal.mints.map((m) => [m.name, m.regionId]));

const regionOf = (harness: Harness, name: string) =>
  harness.sim.store.regionOf(harness.sim.store.findByName(name)!.id);

async function linkRegions(harness: Harness): Promise<Record<string, string | null>> {
  const { rows } = await harness.database.pool.query<{ customer_id: string; region_id: string }>(
    'select customer_id, region_id from customer_links',
  );
  return Object.fromEntries(rows.map((r) => [r.customer_id, r.region_id]));
}

/** Calls by route since the last reset (the listing and token routes apart). */
function mutatingCalls(harness: Harness) {
  const count = (route: string) => harness.sim.stats.count(route);
  return {
    get: count('GET /api/v1/workspaces/{id}'),
    put: count('PUT /api/v1/workspaces/{id}'),
    del: count('DELETE /api/v1/workspaces/{id}'),
    mint: count('POST /api/v1/account/applications/scoped-token'),
  };
}

const NO_CALLS = { get: 0, put: 0, del: 0, mint: 0 };

async function setRegions(harness: Harness, regions: Record<string, string | null>) {
  for (const [id, region] of Object.entries(regions)) {
    await harness.database.pool.query('update customers set region = $2 where id = $1', [
      id,
      region,
    ]);
  }
}

describe('the region a workspace is created in', () => {
  it('is the row’s region (eu, us, a region id), else DEFAULT_REGION=us; the link records it', async () => {
    h = await startHarness();
    const OTHER = '0f0e0d0c-0000-4000-8000-000000000001';
    await h.customers([
      { id: 'c-eu', name: 'Paris' },
      { id: 'c-us', name: 'Austin' },
      { id: 'c-id', name: 'Elsewhere' },
      { id: 'c-none', name: 'Nowhere' },
      { id: 'c-blank', name: 'Blank' },
    ]);
    await setRegions(h, { 'c-eu': ' EU', 'c-us': 'us', 'c-id': OTHER, 'c-blank': '' });
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);

    expect(mintedRegions(h)).toEqual({
      Paris: EU,
      Austin: US,
      Elsewhere: OTHER,
      Nowhere: US,
      Blank: US,
    });
    expect(regionOf(h, 'Paris')).toBe(EU);
    expect(regionOf(h, 'Nowhere')).toBe(US);
    expect(await linkRegions(h)).toEqual({
      'c-eu': EU,
      'c-us': US,
      'c-id': OTHER,
      'c-none': US,
      'c-blank': US,
    });
    expect((await getStatus(daemon.app)).regionMismatches).toEqual([]);
  });

  it('is the EU for a customer without a region when DEFAULT_REGION=eu', async () => {
    h = await startHarness({ env: { DEFAULT_REGION: 'eu' } });
    const daemon = await h.startDaemon();
    // A direct write's sync, not a sweep: every trigger mints the same way. (An UPDATE that
    // changes nothing would send nothing: the change trigger skips it.)
    await h.database.pool.query(
      `insert into customers (id, name, region) values ('c-none', 'Berlin', null), ('c-us', 'Boston', 'us')`,
    );
    await waitFor(() => h!.sim.store.findByName('Boston') && h!.sim.store.findByName('Berlin'), {
      what: 'both workspaces',
    });
    await waitForIdle(daemon.app);
    expect(mintedRegions(h)).toEqual({ Berlin: EU, Boston: US });
    expect(await linkRegions(h)).toEqual({ 'c-none': EU, 'c-us': US });
  });

  it('is not known for a workspace adopted by name: null, and never a mismatch', async () => {
    h = await startHarness();
    h.sim.store.create('Found', 'active', EU);
    await h.customers([{ id: 'c1', name: 'Found' }]);
    await setRegions(h, { c1: 'us' });
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    expect(await linkRegions(h)).toEqual({ c1: null });
    expect(regionOf(h, 'Found')).toBe(EU);
    expect((await getStatus(daemon.app)).regionMismatches).toEqual([]);
    const explained = renderExplanation(await explainCustomer(daemon.app, 'c1'));
    expect(explained).toContain(
      "Region: wants us; the workspace's region is not known (linked by name, not created by customer-sync)",
    );
  });
});

describe('a region changed after the workspace exists', () => {
  it('is reported by status --json, explain, the console and a metric, and costs no call', async () => {
    h = await startHarness({ env: { BILLING_WEBHOOK_SECRET: SECRET } });
    await h.customers([
      { id: 'c1', name: 'Lyon' },
      { id: 'c2', name: 'Denver' },
    ]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const ws = h.sim.store.findByName('Lyon')!;
    expect(h.sim.store.regionOf(ws.id)).toBe(US);

    h.sim.stats.reset();
    // The row now wants the EU: its direct write's sync, and a sweep, make no call for it.
    await setRegions(h, { c1: 'eu' });
    await waitForIdle(daemon.app);
    await sweepAndWait(daemon.app);
    expect(mutatingCalls(h)).toEqual(NO_CALLS);
    expect(h.sim.store.findByName('Lyon')).toEqual(ws);
    expect(h.sim.store.regionOf(ws.id)).toBe(US);
    expect(h.sim.journal.mints.map((m) => m.name).sort()).toEqual(['Denver', 'Lyon']);
    expect(await linkRegions(h)).toEqual({ c1: US, c2: US });

    const mismatch = { customerId: 'c1', workspaceId: ws.id, wanted: EU, createdIn: US };
    const cli = await run('npx', ['tsx', 'src/cli/main.ts', 'status', '--json'], {
      env: { ...process.env, ...h.env, LOG_LEVEL: 'silent' },
    });
    expect(JSON.parse(cli.stdout).regionMismatches).toEqual([mismatch]);

    const explanation = await explainCustomer(daemon.app, 'c1');
    expect(explanation.region.mismatch).toEqual(mismatch);
    expect(explanation.wouldDo).toEqual({ changes: [], conflict: null });
    expect(renderExplanation(explanation)).toContain(
      'Region: the workspace is in us, the row wants eu: nothing will move it (a workspace stays in the region it was created in)',
    );
    const page = customerPage({ csrf: 'x', user: 'operator' }, explanation).toString();
    expect(page).toContain('region mismatch');
    expect(page).toContain('the workspace is in us, the row wants eu: nothing will move it');

    const metrics = await (await request(`${daemon.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^customer_sync_region_mismatches 1$/m);

    // A billing webhook renaming the customer leaves its region alone.
    const body = JSON.stringify({
      type: 'customer.updated',
      timestamp: new Date().toISOString(),
      data: { id: 'c1', name: 'Lyon SA', status: 'active' },
    });
    const headers = signStandardWebhooks(SECRET, body, {
      timestamp: Math.floor(Date.now() / 1000),
    });
    const answer = await request(`${daemon.url}/webhooks/billing`, {
      method: 'POST',
      headers,
      body,
    });
    expect(answer.statusCode).toBe(200);
    await waitFor(() => h!.sim.store.findByName('Lyon SA'), { what: 'the rename' });
    const { rows } = await h.database.pool.query(
      `select name, region from customers where id = 'c1'`,
    );
    expect(rows).toEqual([{ name: 'Lyon SA', region: 'eu' }]);
    expect(h.sim.store.findByName('Lyon SA')!.id).toBe(ws.id);
  });

  it('is no mismatch once the row wants its workspace’s region again, or the customer is deleted', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Turin' }]);
    await setRegions(h, { c1: 'eu' });
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    await setRegions(h, { c1: 'us' });
    expect((await getStatus(daemon.app)).regionMismatches).toHaveLength(1);
    await setRegions(h, { c1: EU.toUpperCase() });
    expect((await getStatus(daemon.app)).regionMismatches).toEqual([]);
    await setRegions(h, { c1: null });
    expect((await getStatus(daemon.app)).regionMismatches).toHaveLength(1);
    await h.database.pool.query(`update customers set status = 'deleted' where id = 'c1'`);
    expect((await getStatus(daemon.app)).regionMismatches).toEqual([]);
  });
  it('is resolved by a person deleting the workspace: it is re-created where the row wants', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Nantes' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const old = h.sim.store.findByName('Nantes')!;
    await setRegions(h, { c1: 'eu' });
    await waitForIdle(daemon.app);
    expect((await getStatus(daemon.app)).regionMismatches).toHaveLength(1);
    h.sim.store.delete(old.id);
    await sweepAndWait(daemon.app);
    const made = h.sim.store.findByName('Nantes')!;
    expect(made.id).not.toBe(old.id);
    expect(h.sim.store.regionOf(made.id)).toBe(EU);
    expect(await linkRegions(h)).toEqual({ c1: EU });
    expect((await getStatus(daemon.app)).regionMismatches).toEqual([]);
  });
});

describe('a region that names none', () => {
  it('fails the sync visibly, naming the value, and mints nothing', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'c-bad', name: 'Atlantis' },
      { id: 'c-ok', name: 'Madrid' },
    ]);
    await setRegions(h, { 'c-bad': 'mars', 'c-ok': 'eu' });
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    expect(mintedRegions(h)).toEqual({ Madrid: EU });
    expect(h.sim.store.findByName('Atlantis')).toBeUndefined();
    expect(await linkRegions(h)).toEqual({ 'c-ok': EU });
    const status = await getStatus(daemon.app);
    expect(status.failed).toEqual([
      expect.objectContaining({
        customerId: 'c-bad',
        kind: expect.stringMatching(/permanent/),
        reason: expect.stringContaining('region "mars" is not us, eu or a region id (uuid)'),
      }),
    ]);
    const { rows } = await h.database.pool.query(
      `select action, outcome, message from audit where customer_id = 'c-bad'`,
    );
    expect(rows).toEqual([
      { action: 'create', outcome: 'failed', message: expect.stringContaining('"mars"') },
    ]);
    const explained = renderExplanation(await explainCustomer(daemon.app, 'c-bad'));
    expect(explained.join('\n')).toContain('Region: region "mars" is not us, eu or a region id');
  });

  it('is read the same in SQL (status, the metric) as in the sync', async () => {
    h = await startHarness();
    const values = ['us', 'EU', ' eu ', '', '   ', null, 'mars', 'u s', EU, EU.toUpperCase()];
    values.push(`${EU}x`, '0F0E0D0C-0000-4000-8000-000000000001', '\teu', 'eu\n');
    const { rows } = await h.database.pool.query<{ i: number; wanted: string | null }>(
      `select i::int as i, ${wantedRegionSql(2)} as wanted
         from unnest($1::text[]) with ordinality as c(region, i) order by i`,
      [values, 'default-id'],
    );
    const wantedInTs = values.map((v) =>
      v === null || v.replace(/^ +| +$/g, '') === '' ? 'default-id' : (parseRegion(v) ?? null),
    );
    expect(rows.map((r) => r.wanted)).toEqual(wantedInTs);
  });
});

describe('a view as the source', () => {
  const schema = (withRegion: boolean) => `
    create schema app;
    create table app.orgs (org_id bigint primary key, title text not null, residency varchar(8));
    create view app.orgs_source as
      select org_id::text as id, title as name, 'active'::text as status
             ${withRegion ? ', residency as region' : ''}
        from app.orgs;
    insert into app.orgs values (1, 'Oslo', 'eu'), (2, 'Ohio', null);`;

  it('without a region column still works: every workspace in DEFAULT_REGION', async () => {
    h = await startHarness({
      env: { CUSTOMERS_SOURCE: 'app.orgs_source', DEFAULT_REGION: 'eu' },
    });
    await h.database.pool.query(schema(false));
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    expect(mintedRegions(h)).toEqual({ Oslo: EU, Ohio: EU });
    expect((await getStatus(daemon.app)).regionMismatches).toEqual([]);
    expect((await explainCustomer(daemon.app, '2')).region).toMatchObject({
      wanted: EU,
      fromDefault: true,
      createdIn: EU,
      mismatch: null,
    });
  });

  it('with a region column reads it', async () => {
    h = await startHarness({ env: { CUSTOMERS_SOURCE: 'app.orgs_source' } });
    await h.database.pool.query(schema(true));
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    expect(mintedRegions(h)).toEqual({ Oslo: EU, Ohio: US });
    await h.database.pool.query(`update app.orgs set residency = 'us' where org_id = 1`);
    expect((await getStatus(daemon.app)).regionMismatches).toEqual([
      expect.objectContaining({ customerId: '1', wanted: US, createdIn: EU }),
    ]);
  });
});
