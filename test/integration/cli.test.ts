/**
 * The operator CLI against real Postgres, Redis and the simulator: every command, bad arguments
 * (clear message, exit 2, nothing changed), `--json` parsed back, and `sweep --wait` as plain
 * lines ending with the summary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PlanResult } from '../../src/ops/plan.js';
import type { StatusReport } from '../../src/ops/status.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { cli, spawnCli } from '../support/cli.js';

let h: Harness;

const CUSTOMERS = [
  { id: 'cus_a', name: 'Alpha' },
  { id: 'cus_b', name: 'Bravo' },
  { id: 'cus_c', name: 'Charlie', status: 'inactive' },
  { id: 'cus_d', name: 'Delta', status: 'deleted' },
  { id: 'cus_e1', name: 'Echo', createdAt: new Date('2025-01-01T00:00:00Z') },
  { id: 'cus_e2', name: 'Echo', createdAt: new Date('2025-02-01T00:00:00Z') },
];

beforeAll(async () => {
  h = await startHarness();
  await h.customers(CUSTOMERS);
  h.sim.store.create('Orphan Co');
});
afterAll(async () => {
  await h?.close();
});

async function counts() {
  const { rows } = await h.database.pool.query<{ sweeps: number; holds: number; audit: number }>(
    `select (select count(*)::int from sweeps) as sweeps, (select count(*)::int from holds) as holds,
            (select count(*)::int from audit) as audit`,
  );
  const app = h.app();
  const queue = await app.queues.sync.getJobCounts(
    'waiting',
    'active',
    'delayed',
    'completed',
    'failed',
  );
  const sweepQueue = await app.queues.sweep.getJobCounts(
    'waiting',
    'active',
    'completed',
    'failed',
  );
  return { ...rows[0], queue, sweepQueue, workspaces: h.sim.store.list().length };
}

describe('cli', () => {
  it('refuses bad usage with a clear message and exit 2, changing nothing', async () => {
    const before = await counts();
    const cases: [string[], RegExp][] = [
      [['plan', '--bogus'], /unknown option '--bogus'/],
      [['sweep', 'now'], /too many arguments|excess argument/i],
      [['enqueue'], /give one or more customer ids, or --all/],
      [['enqueue', 'cus_a', '--all'], /not both/],
      [['enqueue', '--all', '--status', 'gone'], /Allowed choices are active, inactive, deleted/],
      [['enqueue', 'cus_a', '--status', 'active'], /--status goes with --all/],
      [['approve'], /a sweep id, a hold id, or --all/],
      [['approve', '12', '--all'], /a sweep id, a hold id, or --all/],
      [['explain'], /missing required argument 'customer-id'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['status', '--sweeps', 'x'], /whole number/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(h.env, args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stdout, args.join(' ')).toBe('');
    }
    const bad = await cli({ ...h.env, SWEEP_EVERY: 'soon' }, ['status']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      'customer-sync: SWEEP_EVERY="soon" is invalid: expected a duration of at least 1s like 30s, 15m, 1h',
    ]);
    for (const args of [
      ['explain', 'cus_nobody'],
      ['plan', '--customer', 'cus_nobody'],
      ['approve', '424242'],
      ['approve', 'no-such-sweep'],
    ]) {
      const run = await cli(h.env, args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^customer-sync: no /);
    }
    expect(await counts()).toEqual(before);
  });

  it('--help works on every command', async () => {
    for (const command of [
      'plan',
      'sweep',
      'enqueue',
      'status',
      'approve',
      'retry-failed',
      'explain',
      'migrate',
    ]) {
      const run = await cli(h.env, [command, '--help']);
      expect(run.code, command).toBe(0);
      expect(run.stdout, command).toContain(`Usage: customer-sync ${command}`);
    }
  });

  it('plan prints what a sweep would do and changes nothing; --json parses back', async () => {
    const before = await counts();
    const [json, text] = await Promise.all([
      spawnCli(h.env, ['plan', '--json']),
      cli(h.env, ['plan']),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout) as PlanResult;
    expect(plan.held).toBe(false);
    const creates = plan.changes.filter((c) => c.action === 'create').map((c) => c.customerId);
    expect(creates.sort()).toEqual(['cus_a', 'cus_b', 'cus_c', 'cus_e1']);
    for (const c of plan.changes)
      expect(Object.keys(c).sort()).toEqual(['action', 'customerId', 'from', 'to', 'workspaceId']);
    expect(plan.conflicts.map((c) => c.customerId)).toEqual(['cus_e2']);
    expect(plan.orphans.map((o) => o.name)).toEqual(['Orphan Co']);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ACTION\s+CUSTOMER\s+WORKSPACE\s+FROM → TO/);
    expect(text.stdout).toMatch(/create\s+cus_a\s+—\s+— → Alpha/);
    expect(text.stdout).toContain('Orphans (1)');
    expect(text.stdout).toContain('Conflicts (1)');
    expect(text.stdout).toMatch(/Held: no/);

    const one = await cli(h.env, ['plan', '--json', '--customer', 'cus_b']);
    expect((JSON.parse(one.stdout) as PlanResult).changes.map((c) => c.customerId)).toEqual([
      'cus_b',
    ]);
    expect(await counts()).toEqual(before);
  });

  it('status --json before anything ran', async () => {
    const run = await spawnCli(h.env, ['status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout) as StatusReport;
    expect(status).toMatchObject({
      sweeps: [],
      failed: [],
      held: [],
      orphans: [],
      breaker: 'closed',
    });
    expect(status.queue.waiting).toBe(0);
  });

  it('sweep --wait (not a TTY) prints lines and ends with the summary; status shows the result', async () => {
    const waiting = spawnCli(h.env, ['sweep', '--wait']);
    // No worker yet: the CLI says so on stderr while it waits; then a daemon starts.
    await waitFor(() => /no daemon is consuming the sweep queue/.test(waiting.stderrSoFar()), {
      what: 'the CLI to say no daemon consumes the sweep queue',
    });
    await h.startDaemon();
    const run = await waiting;
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^sweep [0-9a-f-]{36} queued$/);
    const sweepId = /^sweep (\S+) queued$/.exec(lines[0] ?? '')?.[1];
    expect(lines.at(-1)).toMatch(/^result: 1 sync failing .*\(exit 1\)$/);
    expect(run.stdout).toMatch(/^ {2}syncs: 5 queued, 5 ended; failing: 1, held: 0$/m);
    expect(run.stdout).toMatch(/^ {2}planned: create 4, conflicts 1, orphans 1$/m);
    expect(run.stdout).not.toContain('\u001b['); // no terminal escapes
    expect(run.code).toBe(1); // the name clash fails visibly
    expect(run.stderr).toMatch(/no daemon is consuming the sweep queue/);

    const status = JSON.parse((await cli(h.env, ['status', '--json'])).stdout) as StatusReport;
    // The daemon's scheduled first sweep may have run after ours: find ours by id.
    const ours = status.sweeps.find((s) => s.id === sweepId);
    expect(ours).toMatchObject({ outcome: 'ok', trigger: 'manual' });
    expect(ours?.counts.create).toBe(4);
    expect(status.failed.map((f) => f.customerId)).toEqual(['cus_e2']);
    expect(status.failed[0]?.reason).toMatch(/Echo/);
    expect(status.orphans.map((o) => o.name)).toEqual(['Orphan Co']);
    const text = await cli(h.env, ['status']);
    expect(text.stdout).toMatch(/Breaker: closed/);
    expect(text.stdout).toContain(sweepId);
  });

  it('explain shows row, link, live workspace, audit and what a sync would do', async () => {
    const run = await cli(h.env, ['explain', 'cus_c', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const e = JSON.parse(run.stdout) as {
      customer: { status: string };
      link: { workspaceId: string } | null;
      workspace: { status: string; id: string } | null;
      audit: { action: string; outcome: string }[];
      wouldDo: { changes: unknown[]; conflict: unknown };
    };
    expect(e.customer.status).toBe('inactive');
    expect(e.workspace?.id).toBe(e.link?.workspaceId);
    expect(e.workspace?.status).toBe('inactive');
    expect(e.audit.map((a) => `${a.action} ${a.outcome}`)).toContain('create ok');
    expect(e.wouldDo).toEqual({ changes: [], conflict: null });

    // Drift made behind its back shows up as what a sync would do now.
    h.sim.store.update(e.workspace?.id ?? '', { name: 'Charlie (old)' });
    const text = await cli(h.env, ['explain', 'cus_c']);
    expect(text.stdout).toMatch(/Workspace now \(API\): "Charlie \(old\)", inactive/);
    expect(text.stdout).toMatch(/A sync now would:\n\s+rename \S+: Charlie \(old\) → Charlie/);
    const clash = await cli(h.env, ['explain', 'cus_e2']);
    expect(clash.stdout).toMatch(/Last sync: failed/);
    expect(clash.stdout).toMatch(/A sync now would:\n\s+fail: /);
  });

  it('enqueue queues known customers, reports unknown ones, and is safe to run twice', async () => {
    const run = await cli(h.env, ['enqueue', 'cus_c', 'cus_a', 'cus_ghost']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unknown customer ids .*not queued: cus_ghost/);
    expect(run.stdout).toContain('queued 2 customer syncs');
    expect((await cli(h.env, ['enqueue', 'cus_c', 'cus_a'])).code).toBe(0);
    await waitForIdle(h.app());
    // Named by a person, each sync read its workspace first: the rename made behind our back
    // (above) is repaired without a sweep.
    expect(h.sim.store.list().some((w) => w.name === 'Charlie (old)')).toBe(false);
    await cli(h.env, ['sweep', '--wait']);
    await waitForIdle(h.app());
    const ws = h.sim.store.list().find((w) => w.name === 'Charlie');
    expect(ws?.status).toBe('inactive');
    const all = await cli(h.env, ['enqueue', '--all', '--status', 'active']);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('queued 4 customer syncs');
    await waitForIdle(h.app());
  });

  it('retry-failed queues the failed syncs again', async () => {
    // Written quietly: the change trigger's own sync could otherwise beat the CLI to it (seen in
    // CI: "no failed syncs"), and only `retry-failed` should queue it here.
    const client = await h.database.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local customer_sync.quiet = 'on'`);
      await client.query(`update customers set name = 'Echo Two' where id = 'cus_e2'`);
      await client.query('commit');
    } finally {
      client.release();
    }
    const run = await cli(h.env, ['retry-failed']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/queued 1 failed sync again/);
    await waitFor(async () => h.sim.store.list().some((w) => w.name === 'Echo Two'), {
      what: 'Echo Two',
    });
    await waitForIdle(h.app());
    expect((await cli(h.env, ['retry-failed'])).stdout).toMatch(/no failed syncs/);
  });
});
