/**
 * A user's source at its plainest: a view of just `id`, `name`, `status` (no `created_at`, no
 * `updated_at`) works with every command and console page; and a customer whose name is NULL,
 * empty or blank gets no workspace (no workspace called "null") and fails where a person looks,
 * while a workspace it already has is neither renamed nor deactivated.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import type { PlanResult } from '../../src/ops/plan.js';
import type { StatusReport } from '../../src/ops/status.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { cli } from '../support/cli.js';

const TOKEN = 'source-shape-token-5e0c1a7d';
const AUTH = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;

/** The user's table and the plainest view of it: three columns, a nullable name. */
const SCHEMA = `
  create schema app;
  create table app.orgs (org_id text primary key, label text, state text not null default 'active');
  create view app.orgs_source as select org_id as id, label as name, state as status from app.orgs;
`;

const ENV = {
  CUSTOMERS_SOURCE: 'app.orgs_source',
  CUSTOMERS_NOTIFY_TABLES: 'app.orgs(org_id)',
  DASHBOARD_TOKEN: TOKEN,
  MAX_DESTRUCTIVE_PER_SWEEP: '0',
  MAX_DESTRUCTIVE_SHARE: '1%',
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function withOrgs(rows: [string, string | null, string][]): Promise<Harness> {
  const harness = await startHarness({ env: ENV });
  await harness.database.pool.query(SCHEMA);
  await harness.database.pool.query(
    `insert into app.orgs select * from unnest($1::text[], $2::text[], $3::text[])`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
  expect((await cli(harness.env, ['migrate'])).code).toBe(0);
  return harness;
}

async function page(url: string, path: string): Promise<{ status: number; text: string }> {
  const answer = await request(`${url}${path}`, { headers: { authorization: AUTH } });
  return { status: answer.statusCode, text: await answer.body.text() };
}

/** Runs a command and expects its exit code, showing its output when it differs. */
async function ok(env: Record<string, string>, args: string[], code = 0) {
  const run = await cli(env, args);
  expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code, stderr: '' });
  return run;
}

const json = <T>(text: string) => JSON.parse(text) as T;

describe('a view of only id, name and status', () => {
  it('works with every command and every console page', async () => {
    h = await withOrgs([
      ['o1', 'Alpha', 'active'],
      ['o2', 'Beta', 'active'],
      ['o3', 'Gamma', 'inactive'],
      ['o4', 'Delta', 'active'],
    ]);
    const env = h.env;
    expect((await ok(env, ['plan'])).stdout).toContain('create');
    const plan = json<PlanResult>((await ok(env, ['plan', '--json'])).stdout);
    expect(plan.changes.map((c) => c.action)).toEqual(['create', 'create', 'create', 'create']);

    const daemon = await h.startDaemon();
    await ok(env, ['sweep', '--wait']);
    expect(h.sim.store.findByName('Gamma')?.status).toBe('inactive');
    await ok(env, ['enqueue', 'o1']);
    await ok(env, ['enqueue', '--all']);
    await ok(env, ['enqueue', '--all', '--status', 'inactive']);
    await waitForIdle(h.app());

    const explained = await ok(env, ['explain', 'o1']);
    expect(explained.stdout).toContain('Customer o1: "Alpha", active, created —');
    expect(explained.stdout).toContain('do nothing: in step');
    const explainedJson = json<{ customer: Record<string, unknown> }>(
      (await ok(env, ['explain', 'o1', '--json'])).stdout,
    );
    expect(explainedJson.customer).toEqual({
      id: 'o1',
      name: 'Alpha',
      status: 'active',
      createdAt: null,
      region: null,
    });

    // A failure (a second "Alpha": o1 has the name, by id) and a hold (a row gone, past a
    // limit of 0), both found by a sweep: it ends with 1.
    await h.database.pool.query(`insert into app.orgs values ('o5', 'Alpha', 'active')`);
    await h.database.pool.query(
      `begin; set local customer_sync.quiet = 'on'; delete from app.orgs where org_id = 'o4'; commit;`,
    );
    const swept = await ok(env, ['sweep', '--wait'], 1);
    const sweepId = /^sweep (\S+) queued/.exec(swept.stdout)?.[1];
    expect(sweepId).toBeDefined();
    expect((await ok(env, ['status'])).stdout).toContain('o5');
    const status = json<StatusReport>((await ok(env, ['status', '--json'])).stdout);
    expect(status.failed.map((f) => f.customerId)).toEqual(['o5']);
    expect(status.held.map((x) => `${x.customerId} ${x.action}`)).toEqual(['o4 deactivate']);

    for (const path of [
      '/console',
      '/console/customers/o1',
      '/console/customers/o5',
      '/console/customers?q=Alp',
      '/console/failed',
      '/console/held',
    ]) {
      const shown = await page(daemon.url, path);
      expect({ path, status: shown.status }).toEqual({ path, status: 200 });
    }

    await ok(env, ['retry-failed']);
    await ok(env, ['approve', sweepId!]);
    const delta = h.sim.store.findByName('Delta')!;
    await waitFor(() => h!.sim.store.get(delta.id)?.status === 'inactive', {
      timeoutMs: 10_000,
      what: 'the approved deactivation',
    });
  });
});

describe('a customer with no name', () => {
  it('gets no workspace and fails visibly; a workspace it has keeps its name and status', async () => {
    h = await withOrgs([
      ['n1', null, 'active'],
      ['n2', '', 'active'],
      ['n3', '   ', 'inactive'],
      ['ok', 'Fine', 'active'],
    ]);
    const env = h.env;
    const plan = json<PlanResult>((await ok(env, ['plan', '--json'])).stdout);
    expect(plan.changes.map((c) => `${c.customerId} ${c.action}`)).toEqual(['ok create']);
    const daemon = await h.startDaemon();
    await ok(env, ['sweep', '--wait'], 1);
    expect(h.sim.store.list().map((w) => w.name)).toEqual(['default', 'Fine']);

    const status = json<StatusReport>((await ok(env, ['status', '--json'])).stdout);
    expect(status.failed.map((f) => f.customerId).sort()).toEqual(['n1', 'n2', 'n3']);
    for (const failed of status.failed) expect(failed.reason).toContain('has no name');
    const explained = await ok(env, ['explain', 'n1']);
    expect(explained.stdout).toContain('Customer n1: no name, active, created —');
    expect(explained.stdout).toContain('fail: customer n1 has no name');
    const shown = await page(daemon.url, '/console/customers/n1');
    expect(shown.status).toBe(200);
    expect(shown.text).toContain('customer n1 has no name');

    // Its name gone (a direct write): its workspace is left as it is, and the failure says why.
    const fine = h.sim.store.findByName('Fine')!;
    await h.database.pool.query(`update app.orgs set label = null where org_id = 'ok'`);
    await waitFor(
      async () => {
        const report = json<StatusReport>((await cli(env, ['status', '--json'])).stdout);
        return report.failed.some((f) => f.customerId === 'ok');
      },
      { timeoutMs: 10_000, what: "the nameless customer's failure" },
    );
    await ok(env, ['sweep', '--wait'], 1);
    expect(h.sim.store.get(fine.id)).toMatchObject({ name: 'Fine', status: 'active' });
    const now = json<PlanResult>((await ok(env, ['plan', '--json'])).stdout);
    expect(now.changes).toEqual([]);
  });
});
