/**
 * The sync engine end to end: real Postgres, real Redis, the simulator over HTTP, a real daemon.
 */
import { randomUUID } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { DAY, MINUTE } from '../../src/lib/duration.js';
import {
  candidatesTableOf,
  createStaging,
  dropStaging,
  indexStaging,
  stageWorkspaces,
} from '../../src/sql/sweepStaging.js';
import { runSweep } from '../../src/sync/sweep.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { REDIS_MODES } from '../support/redis.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The remote state, keyed by workspace name. */
function remote(harness: Harness) {
  return new Map(harness.sim.store.list().map((w) => [w.name, w]));
}

const MUTATING =
  /^(PUT|DELETE|POST) \/api\/v1\/(workspaces|account\/applications\/scoped-token|embedded)/;
function callCounts(harness: Harness) {
  const snapshot = harness.sim.stats.snapshot() as {
    byRoute: Record<string, Record<string, number>>;
  };
  let mutations = 0;
  let lists = 0;
  let tokens = 0;
  let total = 0;
  for (const [route, statuses] of Object.entries(snapshot.byRoute)) {
    const n = Object.values(statuses).reduce((a, b) => a + b, 0);
    total += n;
    if (MUTATING.test(route)) mutations += n;
    if (route === 'GET /api/v1/workspaces') lists += n;
    if (route === 'POST /api/v1/account/applications/token') tokens += n;
  }
  return { mutations, lists, tokens, total };
}

describe('sweep → plan → syncs', () => {
  it.each(REDIS_MODES)(
    'converges 300 mixed customers from an empty organization, then a second sweep writes nothing (%s Redis)',
    async (redis) => {
      h = await startHarness({ redis });
      const rows = Array.from({ length: 300 }, (_, i) => ({
        id: `cus_${String(i).padStart(4, '0')}`,
        name: `Customer ${i}`,
        status: i % 10 === 0 ? 'inactive' : i % 15 === 0 ? 'deleted' : 'active',
      }));
      await h.customers(rows);
      const daemon = await h.startDaemon();
      const first = await sweepAndWait(daemon.app);
      expect(first.failed).toBe(0);

      const ws = remote(h);
      for (const row of rows) {
        const w = ws.get(row.name);
        if (row.status === 'deleted') expect(w).toBeUndefined();
        else expect(w?.status, row.id).toBe(row.status);
      }
      expect(ws.size).toBe(rows.filter((r) => r.status !== 'deleted').length + 1); // + default
      const { rows: links } = await h.database.pool.query(
        'select count(*)::int as n from customer_links',
      );
      expect(links[0].n).toBe(rows.filter((r) => r.status !== 'deleted').length);

      h.sim.stats.reset();
      const second = await sweepAndWait(daemon.app);
      expect(second.queued).toBe(0);
      const calls = callCounts(h);
      expect(calls.mutations).toBe(0);
      expect(calls.lists).toBe(Math.ceil(ws.size / 100));
      expect(calls.total - calls.lists).toBeLessThanOrEqual(1);
    },
  );

  it('converges drift both ways: table renames and status flips, remote renames, deactivations and deletions', async () => {
    h = await startHarness();
    await h.customers(Array.from({ length: 20 }, (_, i) => ({ id: `c${i}`, name: `Co ${i}` })));
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const ids = new Map(h.sim.store.list().map((w) => [w.name, w.id]));

    // Our side changes.
    await h.database.pool.query(`update customers set name = 'Co 1 Renamed' where id = 'c1'`);
    await h.database.pool.query(`update customers set status = 'inactive' where id = 'c2'`);
    // Their side changes behind our back.
    h.sim.store.rename(ids.get('Co 3')!, 'Someone renamed me');
    h.sim.store.setStatus(ids.get('Co 4')!, 'inactive');
    h.sim.store.delete(ids.get('Co 5')!);
    await waitForIdle(daemon.app); // direct writes may already have queued syncs
    const drift = await sweepAndWait(daemon.app);

    const ws = remote(h);
    expect(ws.get('Co 1 Renamed')?.id).toBe(ids.get('Co 1')); // renamed in place, same id
    expect(ws.has('Co 1')).toBe(false);
    expect(ws.get('Co 2')?.status).toBe('inactive');
    expect(ws.get('Co 3')?.id).toBe(ids.get('Co 3'));
    expect(ws.has('Someone renamed me')).toBe(false);
    expect(ws.get('Co 4')?.status).toBe('active');
    expect(ws.get('Co 5')?.status).toBe('active'); // recreated
    expect(ws.get('Co 5')?.id).not.toBe(ids.get('Co 5'));
    const { rows } = await h.database.pool.query(
      `select workspace_id from customer_links where customer_id = 'c5'`,
    );
    expect(rows[0].workspace_id).toBe(ws.get('Co 5')?.id);
    // The audit says who asked: the sweep, by id, for the drift only the sweep could see.
    const { rows: audit } = await h.database.pool.query(
      `select trigger, sweep_id, before, after, outcome from audit where customer_id = 'c3' and action = 'rename'`,
    );
    expect(audit).toEqual([
      {
        trigger: 'sweep',
        sweep_id: drift.sweep?.id,
        before: 'Someone renamed me',
        after: 'Co 3',
        outcome: 'ok',
      },
    ]);
  });

  it('never mints with an old name after a rename (the rename trap)', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Before' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const id = h.sim.store.findByName('Before')!.id;
    await h.database.pool.query(`update customers set name = 'After' where id = 'c1'`);
    await sweepAndWait(daemon.app);
    await sweepAndWait(daemon.app);
    const names = h.sim.store
      .list()
      .map((w) => w.name)
      .sort();
    expect(names).toEqual(['After', 'default']);
    expect(h.sim.store.findByName('After')?.id).toBe(id);
    expect(h.sim.stats.snapshot().scopedMints).toBe(1);
  });

  it('gives a contested name to the first customer; the second fails visibly and never shares', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'b-late', name: 'Same Name', createdAt: new Date('2026-02-01T00:00:00Z') },
      { id: 'a-early', name: 'Same Name', createdAt: new Date('2026-01-01T00:00:00Z') },
    ]);
    const daemon = await h.startDaemon();
    const progress = await sweepAndWait(daemon.app);
    expect(progress.failed).toBe(1);
    const { rows: links } = await h.database.pool.query('select customer_id from customer_links');
    expect(links.map((r) => r.customer_id)).toEqual(['a-early']);
    const { rows: failed } = await h.database.pool.query(
      `select subject, outcome, reason from sync_state where outcome = 'failed'`,
    );
    expect(failed).toEqual([
      expect.objectContaining({
        subject: 'b-late',
        reason: expect.stringContaining('claimed first by customer a-early'),
      }),
    ]);
    expect(h.sim.store.list().filter((w) => w.name === 'Same Name')).toHaveLength(1);
  });

  it('adopts an unlinked workspace by exact name, leaves the default alone, and reports orphans', async () => {
    h = await startHarness();
    const existing = h.sim.store.create('Acme', 'inactive');
    const stray = h.sim.store.create('Nobody’s');
    await h.customers([{ id: 'c1', name: 'Acme' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const { rows } = await h.database.pool.query(
      `select workspace_id from customer_links where customer_id = 'c1'`,
    );
    expect(rows[0].workspace_id).toBe(existing.id);
    expect(h.sim.store.get(existing.id)?.status).toBe('active');
    const { rows: orphans } = await h.database.pool.query('select workspace_id, name from orphans');
    expect(orphans).toEqual([{ workspace_id: stray.id, name: 'Nobody’s' }]);
    expect(h.sim.store.get(stray.id)?.status).toBe('active'); // ORPHANS=report touches nothing

    // A dry run (`plan`) sees a new orphan but leaves the report as the last sweep wrote it.
    const second = h.sim.store.create('Somebody else’s');
    const plan = await runSweep(daemon.app.sweepDeps(), { trigger: 'manual', dryRun: true });
    expect(plan.counts.orphans).toBe(2);
    const { rows: after } = await h.database.pool.query('select workspace_id from orphans');
    expect(after).toEqual([{ workspace_id: stray.id }]);
    await sweepAndWait(daemon.app);
    const { rows: replaced } = await h.database.pool.query(
      'select workspace_id from orphans order by name',
    );
    expect(replaced).toEqual([{ workspace_id: stray.id }, { workspace_id: second.id }]);
  });
});

describe('safety', () => {
  it('deactivates a deleted customer at once and deletes it when the grace period has passed', async () => {
    h = await startHarness({ env: { DELETE_GRACE: '7d' } });
    await h.customers([{ id: 'c1', name: 'Leaving' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const id = h.sim.store.findByName('Leaving')!.id;
    await h.database.pool.query(`update customers set status = 'deleted' where id = 'c1'`);
    await sweepAndWait(daemon.app);
    expect(h.sim.store.get(id)?.status).toBe('inactive');
    // A reminder waits for the due time, so the delete does not depend on a sweep.
    const reminders = await daemon.app.queues.due.getJobs(['delayed']);
    expect(reminders.map((j) => j.data.subject)).toEqual(['c1']);
    expect(reminders[0]!.delay).toBeGreaterThan(6 * 24 * 3600 * 1000);
    const { rows } = await h.database.pool.query(
      `select delete_due_at - deleted_seen_at as grace from customer_links where customer_id = 'c1'`,
    );
    expect(rows[0].grace).toMatchObject({ days: 7 });
    // The grace passes (moved in the database rather than waiting a week).
    await h.database.pool.query(
      `update customer_links set delete_due_at = now() - interval '1 second'`,
    );
    await sweepAndWait(daemon.app);
    expect(h.sim.store.get(id)).toBeUndefined();
    const { rows: links } = await h.database.pool.query('select * from customer_links');
    expect(links).toEqual([]);
  });

  it('deletes when the grace ends by its own reminder, without another sweep', async () => {
    h = await startHarness({ env: { DELETE_GRACE: '1s' } });
    await h.customers([{ id: 'c1', name: 'Short Grace' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const id = h.sim.store.findByName('Short Grace')!.id;
    await h.database.pool.query(`update customers set status = 'deleted' where id = 'c1'`);
    await waitFor(() => h!.sim.store.get(id) === undefined, {
      timeoutMs: 15_000,
      what: 'the delete',
    });
    const { rows } = await h.database.pool.query(
      `select action, trigger from audit where customer_id = 'c1' and action in ('deactivate', 'delete') order by id`,
    );
    expect(rows).toEqual([
      { action: 'deactivate', trigger: 'notify' },
      { action: 'delete', trigger: 'due' },
    ]);
  });

  it('holds a mass deactivation for approval, runs the rest, and approve releases it', async () => {
    h = await startHarness({
      env: { MAX_DESTRUCTIVE_PER_SWEEP: '3', MAX_DESTRUCTIVE_SHARE: '10%' },
    });
    await h.customers(Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, name: `Co ${i}` })));
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    await h.database.pool.query(
      `update customers set status = 'inactive' where id in ('c0','c1','c2','c3','c4')`,
    );
    await h.database.pool.query(`update customers set name = 'Co 9 New' where id = 'c9'`);
    // The direct writes' syncs (queued by NOTIFY) have all ended, held or done.
    await waitFor(
      async () => {
        const { rows } = await h!.database.pool.query(
          `select count(*)::int as n from sync_state
            where subject in ('c0','c1','c2','c3','c4','c9')
              and (outcome = 'held' or subject in (
                    select customer_id from audit where action in ('deactivate', 'rename') and outcome = 'ok'))`,
        );
        return rows[0].n === 6;
      },
      { what: 'the direct writes to be synced' },
    );
    await waitForIdle(daemon.app);
    // Direct writes trip the rolling window too: at most 3 deactivations went through.
    const direct = h.sim.store.list().filter((w) => w.status === 'inactive').length;
    expect(direct).toBeLessThanOrEqual(3);
    await h.database.pool.query(`update holds set state = 'void'`);
    await h.database.pool.query(`delete from audit where destructive`);
    for (const w of h.sim.store.list())
      if (w.name !== 'default') h.sim.store.setStatus(w.id, 'active');

    const progress = await sweepAndWait(daemon.app);
    expect(progress.sweep?.outcome).toBe('held');
    expect(h.sim.store.list().filter((w) => w.status === 'inactive')).toEqual([]);
    expect(h.sim.store.findByName('Co 9 New')).toBeDefined(); // the rest ran
    const { rows: holds } = await h.database.pool.query(
      `select customer_id, action from holds where state = 'held' and sweep_id = $1 order by customer_id`,
      [progress.sweep?.id],
    );
    expect(holds.map((r) => r.customer_id)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);

    await h.database.pool.query(`update holds set state = 'approved' where sweep_id = $1`, [
      progress.sweep?.id,
    ]);
    await daemon.app.syncQueue.enqueue(['c0', 'c1', 'c2', 'c3', 'c4'], 'approve');
    await waitForIdle(daemon.app);
    expect(
      h.sim.store
        .list()
        .filter((w) => w.status === 'inactive')
        .map((w) => w.name)
        .sort(),
    ).toEqual(['Co 0', 'Co 1', 'Co 2', 'Co 3', 'Co 4']);
    const { rows: done } = await h.database.pool.query(
      `select state from holds where sweep_id = $1`,
      [progress.sweep?.id],
    );
    expect(done.every((r) => r.state === 'done')).toBe(true);
  });

  it('voids a held change the customer no longer needs, so approving later changes nothing', async () => {
    h = await startHarness({
      env: { MAX_DESTRUCTIVE_PER_SWEEP: '3', MAX_DESTRUCTIVE_SHARE: '10%' },
    });
    await h.customers(Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, name: `Co ${i}` })));
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    // Written quietly (no NOTIFY): only the sweep sees these, and holds all five.
    const quietly = async (sql: string) => {
      const client = await h!.database.pool.connect();
      try {
        await client.query('begin');
        await client.query(`set local customer_sync.quiet = 'on'`);
        await client.query(sql);
        await client.query('commit');
      } finally {
        client.release();
      }
    };
    const five = `('c0','c1','c2','c3','c4')`;
    await quietly(`update customers set status = 'inactive' where id in ${five}`);
    const progress = await sweepAndWait(daemon.app);
    expect(progress.sweep?.outcome).toBe('held');
    const holdStates = async () =>
      (
        await h!.database.pool.query(`select state from holds where sweep_id = $1`, [
          progress.sweep?.id,
        ])
      ).rows.map((r) => r.state as string);
    expect(await holdStates()).toEqual(Array(5).fill('held'));

    // The customers are paid up again before anyone approves: their next sync voids the holds.
    await quietly(`update customers set status = 'active' where id in ${five}`);
    await daemon.app.syncQueue.enqueue(['c0', 'c1', 'c2', 'c3', 'c4'], 'enqueue');
    await waitForIdle(daemon.app);
    expect(await holdStates()).toEqual(Array(5).fill('void'));

    // A late approval finds nothing to release.
    const { rowCount } = await h.database.pool.query(
      `update holds set state = 'approved' where sweep_id = $1 and state = 'held'`,
      [progress.sweep?.id],
    );
    expect(rowCount).toBe(0);
    expect(h.sim.store.list().filter((w) => w.status === 'inactive')).toEqual([]);
  });

  it('plans no delete or deactivation from a listing that failed part-way', async () => {
    h = await startHarness({ env: { ORPHANS: 'delete' } });
    for (let i = 0; i < 150; i++) h.sim.store.create(`stray ${i}`);
    await h.customers([{ id: 'c1', name: 'New One' }]);
    h.sim.faults.set({ failPageAtOffsets: [100] });
    const app = h.app();
    const report = await runSweep(app.sweepDeps(), { trigger: 'manual' });
    expect(report.listingComplete).toBe(false);
    expect(report.counts.delete ?? 0).toBe(0);
    expect(report.counts.create).toBe(1);
    const { rows } = await h.database.pool.query(`select outcome from sweeps where id = $1`, [
      report.id,
    ]);
    expect(rows[0].outcome).toBe('incomplete');
    h.sim.faults.reset();
    const full = await runSweep(app.sweepDeps(), { trigger: 'manual', dryRun: true });
    expect(full.counts.delete).toBe(150);
  });

  it('deactivates or deletes orphans only when told to', async () => {
    h = await startHarness({ env: { ORPHANS: 'deactivate' } });
    const stray = h.sim.store.create('stray');
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    expect(h.sim.store.get(stray.id)?.status).toBe('inactive');
    expect(h.sim.store.findByName('default')?.status).toBe('active');
  });
});

describe("the deleted customers' marks", () => {
  it('a sweep marks the links of deleted customers and of customers gone from the source, a plan marks none', async () => {
    h = await startHarness({ env: { DELETE_GRACE: '1h' } });
    const pool = h.database.pool;
    const kept = h.sim.store.create('Kept');
    const deleted = h.sim.store.create('Deleted');
    const departed = h.sim.store.create('Departed');
    await h.customers([
      { id: 'c-kept', name: 'Kept' },
      { id: 'c-deleted', name: 'Deleted', status: 'deleted' },
    ]);
    // c-departed's row has left the source: its link is all that is left of it.
    await pool.query(
      `insert into customer_links (customer_id, workspace_id, workspace_name, workspace_status)
       values ('c-kept', $1, 'Kept', 'active'), ('c-deleted', $2, 'Deleted', 'active'),
              ('c-departed', $3, 'Departed', 'active')`,
      [kept.id, deleted.id, departed.id],
    );
    const marks = async () =>
      (
        await pool.query<{ id: string; due_in_s: number | null }>(
          `select customer_id as id,
                  round(extract(epoch from delete_due_at - deleted_seen_at))::int as due_in_s
             from customer_links order by customer_id`,
        )
      ).rows;
    const deps = h.app().sweepDeps();
    await runSweep(deps, { trigger: 'manual', dryRun: true });
    expect(await marks()).toEqual([
      { id: 'c-deleted', due_in_s: null },
      { id: 'c-departed', due_in_s: null },
      { id: 'c-kept', due_in_s: null },
    ]);
    const report = await runSweep(deps, { trigger: 'manual' });
    expect(await marks()).toEqual([
      { id: 'c-deleted', due_in_s: 3600 },
      { id: 'c-departed', due_in_s: 3600 },
      { id: 'c-kept', due_in_s: null },
    ]);
    expect(report.counts.deactivate).toBe(2); // deleted and departed; the deletes wait for the grace
  });
});

describe('a listing that repeats its items', () => {
  it('is planned as if each was listed once: one adoption, one orphan', async () => {
    h = await startHarness();
    const stray = h.sim.store.create('stray');
    const adoptee = h.sim.store.create('Adoptee');
    await h.customers([{ id: 'c1', name: 'Adoptee' }]);
    const deps = h.app().sweepDeps();
    // A cursor that hands every page over twice (pagination by offset while items move does it).
    const engine = {
      ...deps.engine,
      async *listWorkspaces(options: Parameters<typeof deps.engine.listWorkspaces>[0]) {
        for await (const page of deps.engine.listWorkspaces(options)) {
          yield page;
          yield page;
        }
      },
    };
    const orphans: string[] = [];
    const report = await runSweep(
      { ...deps, engine },
      { trigger: 'manual', onOrphan: (o) => orphans.push(o.id) },
    );
    expect(report.counts.workspaces).toBe(2 * h.sim.store.list().length);
    expect(report.counts.adopt).toBe(1);
    expect(report.counts.linked).toBe(0); // three listed (stray, Adoptee, default), none linked
    expect(orphans).toEqual([stray.id]);
    const { rows } = await h.database.pool.query(
      `select action, workspace_id from sweep_changes where sweep_id = $1`,
      [report.id],
    );
    expect(rows).toEqual([{ action: 'adopt', workspace_id: adoptee.id }]);
  });
});

describe('a sweep retaken after its daemon died', () => {
  it('starts over under the same id and plans once', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Once' }]);
    const app = h.app();
    const id = randomUUID();
    // A first attempt that got as far as planning, then its daemon was killed.
    await runSweep(app.sweepDeps(), { id, trigger: 'manual' });
    await h.database.pool.query(
      `update sweeps set finished_at = null, outcome = 'running' where id = $1`,
      [id],
    );
    const again = await runSweep(app.sweepDeps(), { id, trigger: 'manual' });
    expect(again.counts.create).toBe(1);
    const { rows } = await h.database.pool.query(
      `select (select count(*)::int from sweep_changes where sweep_id = $1) as changes,
              (select outcome from sweeps where id = $1) as outcome`,
      [id],
    );
    expect(rows[0]).toEqual({ changes: 1, outcome: 'ok' });
  });
});

describe('a sweep’s work beside the listing', () => {
  it('fails the sweep when the candidates fail while the listing still runs, and leaves no rejection unhandled (it would end the daemon)', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Beside' }]);
    const deps = h.app().sweepDeps();
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      let failed = false;
      const source = {
        ...deps.source,
        relation: async () => {
          failed = true;
          throw new Error('the source went away');
        },
      };
      let resume!: () => void;
      const listed = new Promise<void>((resolve) => (resume = resolve));
      const engine = {
        ...deps.engine,
        async *listWorkspaces() {
          await listed; // a long listing: the candidates fail before it ends
          yield* deps.engine.listWorkspaces();
        },
      };
      const run = runSweep({ ...deps, source, engine }, { trigger: 'manual' }).catch(
        (error: unknown) => error,
      );
      await waitFor(() => failed, { what: 'the candidates to fail' });
      // Turns of the event loop, not a wait for work: Node reports a rejection nobody handles
      // once the microtasks of the turn it happened in have run.
      for (let i = 0; i < 5; i += 1) await new Promise((r) => setImmediate(r));
      resume();
      expect(String(await run)).toMatch(/the source went away/);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});

describe('staging', () => {
  const stagingTables = async (harness: Harness) =>
    (
      await harness.database.pool.query<{ name: string }>(
        `select tablename as name from pg_tables where tablename like 'sweep\\_listing\\_%' order by 1`,
      )
    ).rows.map((r) => r.name);

  it('a sweep and a plan leave no staging behind; a killed run’s is dropped once stale', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Staged' }]);
    const app = h.app();
    // What a sweep killed a day and a minute ago left, and what one killed just now left.
    const now = Date.now();
    const stale = await createStaging(h.database.pool, 'killed-yesterday', now - DAY - MINUTE);
    const fresh = await createStaging(h.database.pool, 'killed-now', now);
    const plan = await runSweep(app.sweepDeps(), { trigger: 'manual', dryRun: true });
    expect(plan.counts.create).toBe(1); // planned from its own staging
    expect(await stagingTables(h)).toEqual([stale, fresh].sort()); // a plan drops nothing else
    const sweep = await runSweep(app.sweepDeps(), { trigger: 'manual' });
    expect(sweep.counts.create).toBe(1);
    expect(await stagingTables(h)).toEqual([fresh]);
    expect(h.sim.store.findByName('Staged')).toBeUndefined(); // planned, queued; no worker here
  });

  it('two runs of one sweep id in one second share no table: the retaken run replaces the stopped one’s, whose late tables clash with nothing', async () => {
    // Seen under load in sweep-lock.test.ts: a stopped run's candidates table, created late,
    // took the name the run that retook its sweep was about to create ("already exists").
    h = await startHarness();
    const pool = h.database.pool;
    const now = Date.now();
    const stopped = await createStaging(pool, 'retaken', now);
    const retaken = await createStaging(pool, 'retaken', now);
    expect(retaken).not.toBe(stopped);
    expect(await stagingTables(h)).toEqual([retaken]);
    await pool.query(`create unlogged table ${candidatesTableOf(stopped)} (id text)`);
    await pool.query(`create unlogged table ${candidatesTableOf(retaken)} (id text)`);
    await dropStaging(pool, stopped);
    expect(await stagingTables(h)).toEqual([retaken, candidatesTableOf(retaken)].sort());
    await dropStaging(pool, retaken);
    expect(await stagingTables(h)).toEqual([]);
  });

  it('stages any name the API allows exactly as listed (COPY text escapes)', async () => {
    h = await startHarness();
    const pool = h.database.pool;
    const table = await createStaging(pool, 'escapes', Date.now());
    // COPY's text format gives meaning to each of these: tab and newline split rows and columns,
    // a backslash starts an escape, `\N` alone is NULL and `\.` alone ended the data.
    const names = [
      'tab\there',
      'line\nbreak',
      'cr\rhere',
      'back\\slash',
      '\\N',
      '\\.',
      'ünï 🚀 "q\'',
      ' spaced ',
    ];
    const staged = names.map((name) => ({ id: randomUUID(), name, status: 'active' as const }));
    await stageWorkspaces(pool, table, staged);
    const { rows } = await pool.query<{ id: string; name: string }>(
      `select workspace_id as id, name from ${table}`,
    );
    expect(new Map(rows.map((r) => [r.id, r.name]))).toEqual(
      new Map(staged.map((w) => [w.id, w.name])),
    );
    await dropStaging(pool, table);
  });

  it('an item the cursor repeated is staged once', async () => {
    h = await startHarness();
    const pool = h.database.pool;
    const table = await createStaging(pool, 'repeats', Date.now());
    const a = { id: randomUUID(), name: 'A', status: 'active' as const };
    const b = { id: randomUUID(), name: 'B', status: 'inactive' as const };
    await stageWorkspaces(pool, table, [a, b]);
    await stageWorkspaces(pool, table, [b]);
    await indexStaging(pool, table);
    const { rows } = await pool.query(`select workspace_id, name from ${table} order by name`);
    expect(rows).toEqual([
      { workspace_id: a.id, name: 'A' },
      { workspace_id: b.id, name: 'B' },
    ]);
    await dropStaging(pool, table);
    expect(await stagingTables(h)).toEqual([]);
  });
});
