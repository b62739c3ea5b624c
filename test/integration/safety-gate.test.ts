/**
 * Issue 9: every path to a destructive change passes the one gate, and identity survives a
 * failing or lying API. Each test names the hole it closes.
 */
import { Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';

import type { App } from '../../src/app.js';
import { type Clock } from '../../src/lib/clock.js';
import { HOUR } from '../../src/lib/duration.js';
import { connectRedis } from '../../src/lib/redisClient.js';
import { approve } from '../../src/ops/approve.js';
import { waitForSweep } from '../../src/ops/sweep.js';
import { SWEEP_QUEUE, type SweepJobData, sweepIdOf } from '../../src/sync/queues.js';
import { DESTRUCTIVE_LOCK } from '../../src/sync/gate.js';
import { createSweepWorker } from '../../src/sync/sweepWorker.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const skewed = (offsetMs: number): Clock => ({ now: () => Date.now() + offsetMs });

async function syncState(app: App, subject: string) {
  const { rows } = await app.pool.query<{ outcome: string; reason: string | null }>(
    'select outcome, reason from sync_state where subject = $1',
    [subject],
  );
  return rows[0];
}

async function holds(app: App) {
  const { rows } = await app.pool.query<{ customer_id: string; action: string; state: string }>(
    `select customer_id, action, state from holds order by customer_id, action`,
  );
  return rows;
}

describe('1. adopting is not a loophole', () => {
  it('a first run over 100 existing workspaces holds the 40 deactivations, creates nothing, and converges after approve', async () => {
    h = await startHarness({
      env: { MAX_DESTRUCTIVE_PER_SWEEP: '20', MAX_DESTRUCTIVE_SHARE: '10%' },
    });
    const rows = Array.from({ length: 100 }, (_, i) => ({
      id: `c${String(i).padStart(3, '0')}`,
      name: `Existing ${i}`,
      status: i < 40 ? 'inactive' : 'active',
    }));
    const existing = new Map(rows.map((r) => [r.id, h!.sim.store.create(r.name, 'active').id]));
    await h.customers(rows);
    const daemon = await h.startDaemon();
    const first = await sweepAndWait(daemon.app);

    expect(first.sweep?.outcome).toBe('held');
    expect(h.sim.store.count()).toBe(101); // nothing created
    expect(h.sim.stats.snapshot().byRoute['PUT /api/v1/workspaces/{id}']).toBeUndefined();
    for (const r of rows) expect(h.sim.store.get(existing.get(r.id)!)?.status).toBe('active');
    const { rows: links } = await h.database.pool.query<{ n: number }>(
      'select count(*)::int as n from customer_links',
    );
    expect(links[0]!.n).toBe(100); // every one adopted
    const held = await holds(daemon.app);
    expect(held.filter((x) => x.state === 'held' && x.action === 'deactivate')).toHaveLength(40);

    await approve(daemon.app, { kind: 'sweep', sweepId: first.sweepId });
    await waitForIdle(daemon.app);
    for (const r of rows) {
      expect(h.sim.store.get(existing.get(r.id)!)?.status, r.id).toBe(r.status);
    }
    expect(h.sim.store.count()).toBe(101);
  });

  it('a sync that finds an existing workspace by name deactivates it only through the gate', async () => {
    h = await startHarness({
      env: { MAX_DESTRUCTIVE_PER_SWEEP: '0', MAX_DESTRUCTIVE_SHARE: '1%' },
    });
    const ws = h.sim.store.create('Already There', 'active');
    await h.customers([{ id: 'c1', name: 'Already There', status: 'inactive' }]);
    const daemon = await h.startDaemon();
    await daemon.app.syncQueue.enqueue(['c1'], 'enqueue');
    await waitForIdle(daemon.app);
    expect(h.sim.store.get(ws.id)?.status).toBe('active');
    expect(await holds(daemon.app)).toEqual([
      { customer_id: 'c1', action: 'deactivate', state: 'held' },
    ]);
  });
});

describe('2. nothing is admitted before its hold is decided', () => {
  it("another trigger does not treat a sweep's planned change as admitted while the sweep is still deciding", async () => {
    h = await startHarness({
      env: { MAX_DESTRUCTIVE_PER_SWEEP: '0', MAX_DESTRUCTIVE_SHARE: '1%' },
    });
    const ws = h.sim.store.create('Planned', 'active');
    await h.customers([{ id: 'c1', name: 'Planned', status: 'active' }]);
    const daemon = await h.startDaemon();
    const pool = h.database.pool;
    await pool.query(
      `insert into customer_links (customer_id, workspace_id, workspace_name, linked_at)
       values ('c1', $1, 'Planned', now())`,
      [ws.id],
    );
    await pool.query(`update customers set status = 'inactive' where id = 'c1'`);
    await waitForIdle(daemon.app); // the direct write's own sync: held by the window
    await pool.query(`delete from holds`);
    // A sweep that has planned the deactivation but not yet decided whether to hold it.
    await pool.query(
      `insert into sweeps (id, trigger, started_at, outcome) values ('s-undecided', 'manual', now(), 'running')`,
    );
    await pool.query(
      `insert into sweep_changes (sweep_id, customer_id, action, workspace_id, from_state, to_state)
       values ('s-undecided', 'c1', 'deactivate', $1, 'active', 'inactive')`,
      [ws.id],
    );
    await daemon.app.syncQueue.enqueue(['c1'], 'enqueue');
    await waitForIdle(daemon.app);
    expect(h.sim.store.get(ws.id)?.status).toBe('active');
    expect(await holds(daemon.app)).toEqual([
      { customer_id: 'c1', action: 'deactivate', state: 'held' },
    ]);
  });
});

describe('3. one blocked change does not block the others', () => {
  it('a rename refused by a name clash still lets the activation through, then fails visibly', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Payer', status: 'inactive' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const id = h.sim.store.findByName('Payer')!.id;
    expect(h.sim.store.get(id)?.status).toBe('inactive');
    h.sim.store.create('Taken Name'); // someone else's workspace has the new name
    await h.database.pool.query(
      `update customers set name = 'Taken Name', status = 'active' where id = 'c1'`,
    );
    await waitFor(async () => (await syncState(daemon.app, 'c1'))?.outcome === 'failed', {
      what: 'the clash to fail the sync',
    });
    expect(h.sim.store.get(id)?.status).toBe('active'); // paid up: active again
    expect(h.sim.store.get(id)?.name).toBe('Payer');
    expect((await syncState(daemon.app, 'c1'))?.reason).toMatch(/Taken Name/);
  });

  it('a rename blocked because another customer claims the name first still lets the activation through', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'c0', name: 'First Claim', createdAt: new Date('2020-01-01') },
      { id: 'c1', name: 'Payer', status: 'inactive' },
    ]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const id = h.sim.store.findByName('Payer')!.id;
    await h.database.pool.query(
      `update customers set name = 'First Claim', status = 'active' where id = 'c1'`,
    );
    await waitFor(async () => (await syncState(daemon.app, 'c1'))?.outcome === 'failed', {
      what: 'the clash to fail the sync',
    });
    expect(h.sim.store.get(id)?.status).toBe('active');
    expect(h.sim.store.get(id)?.name).toBe('Payer');
    expect((await syncState(daemon.app, 'c1'))?.reason).toMatch(/c0/);
  });
});

describe('4. one clock: the database’s', () => {
  it('a daemon an hour slow and one an hour fast neither delete early nor skip a hold', async () => {
    h = await startHarness({
      env: { DELETE_GRACE: '30m', MAX_DESTRUCTIVE_PER_SWEEP: '2', MAX_DESTRUCTIVE_SHARE: '1%' },
    });
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5'];
    await h.customers(ids.map((id) => ({ id, name: `Clock ${id}` })));
    const pool = h.database.pool;
    let daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const ws = (id: string) => h!.sim.store.findByName(`Clock ${id}`)!.id;
    const wsIds = new Map(ids.map((id) => [id, ws(id)]));
    await daemon.close();

    // The slow daemon sees c1 deleted (and records its due time) and deactivates c2.
    daemon = await h.startDaemon({ clock: skewed(-HOUR) });
    await pool.query(`update customers set status = 'deleted' where id = 'c1'`);
    await pool.query(`update customers set status = 'inactive' where id = 'c2'`);
    await waitForIdle(daemon.app);
    await daemon.close();
    expect(h.sim.store.get(wsIds.get('c1')!)?.status).toBe('inactive');

    // The fast daemon: c1's grace has not passed on the database's clock; c3 is the window's
    // third destructive change and is held; c1 syncs again and must not be deleted.
    daemon = await h.startDaemon({ clock: skewed(HOUR) });
    await pool.query(`update customers set status = 'inactive' where id in ('c3', 'c4')`);
    await daemon.app.syncQueue.enqueue(['c1'], 'enqueue');
    await waitForIdle(daemon.app);
    expect(h.sim.store.get(wsIds.get('c1')!)).toBeDefined();
    // c1's and c2's deactivations used the window's two: c3 and c4 wait for approval.
    expect(h.sim.store.get(wsIds.get('c2')!)?.status).toBe('inactive');
    expect(h.sim.store.get(wsIds.get('c3')!)?.status).toBe('active');
    expect(h.sim.store.get(wsIds.get('c4')!)?.status).toBe('active');
    const held = (await holds(daemon.app)).filter((x) => x.state === 'held');
    expect(held.map((x) => x.customer_id)).toEqual(['c3', 'c4']);
    const { rows } = await pool.query<{ ahead: boolean }>(
      `select bool_or(at > now() + interval '5 minutes') as ahead from audit`,
    );
    expect(rows[0]!.ahead).toBe(false);
  });
});

describe('5. orphan deletion cannot race adoption', () => {
  it('a workspace linked between the orphan check and the DELETE is not deleted', async () => {
    h = await startHarness({ env: { ORPHANS: 'delete' } });
    const orphan = h.sim.store.create('Soon Adopted');
    const daemon = await h.startDaemon();
    const pool = h.database.pool;
    // Hold the destructive gate's lock: the orphan's sync checks the link, then waits at the gate.
    const blocker = await pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select pg_advisory_xact_lock($1)', [DESTRUCTIVE_LOCK]);
      await daemon.app.syncQueue.enqueue([`workspace:${orphan.id}`], 'sweep');
      await waitFor(
        async () => {
          const { rows } = await pool.query<{ n: number }>(
            `select count(*)::int as n from pg_locks
              where locktype = 'advisory' and not granted and objid = $1`,
            [DESTRUCTIVE_LOCK],
          );
          return rows[0]!.n > 0;
        },
        { what: 'the orphan sync to wait at the gate' },
      );
      // Meanwhile a customer adopts the workspace.
      await h.customers([{ id: 'c1', name: 'Soon Adopted' }]);
      await pool.query(
        `insert into customer_links (customer_id, workspace_id, workspace_name, linked_at)
         values ('c1', $1, 'Soon Adopted', now())`,
        [orphan.id],
      );
      await blocker.query('commit');
    } finally {
      blocker.release();
    }
    await waitForIdle(daemon.app);
    expect(h.sim.store.get(orphan.id)?.status).toBe('active');
    expect(h.sim.stats.snapshot().byRoute['DELETE /api/v1/workspaces/{id}']).toBeUndefined();
  });
});

describe('6. tombstones are deletions', () => {
  it('a linked workspace answered with tombstone: true is gone: a new one for an active customer, the link dropped for a deleted one', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'c1', name: 'Tomb Active' },
      { id: 'c2', name: 'Tomb Deleted' },
    ]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const first = h.sim.store.findByName('Tomb Active')!.id;
    h.sim.store.delete(first);
    h.sim.store.delete(h.sim.store.findByName('Tomb Deleted')!.id);
    h.sim.faults.set({ tombstoneOnGet: true });
    await h.database.pool.query(`update customers set status = 'deleted' where id = 'c2'`);
    await waitForIdle(daemon.app);
    // The listing no longer shows them; the syncs read them by id and get their tombstones.
    await sweepAndWait(daemon.app);
    const now = h.sim.store.findByName('Tomb Active');
    expect(now?.id).toBeDefined();
    expect(now?.id).not.toBe(first);
    const { rows } = await h.database.pool.query<{ customer_id: string; workspace_id: string }>(
      'select customer_id, workspace_id from customer_links order by customer_id',
    );
    expect(rows).toEqual([{ customer_id: 'c1', workspace_id: now!.id }]);
  });
});

describe('7. a 404 storm is not a fleet of new workspaces', () => {
  it('re-creations of workspaces that vanished count against the gate, in a sweep and from other triggers', async () => {
    h = await startHarness({
      env: { MAX_DESTRUCTIVE_PER_SWEEP: '5', MAX_DESTRUCTIVE_SHARE: '10%' },
    });
    const rows = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, name: `Vanish ${i}` }));
    await h.customers(rows);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    // An API incident: every workspace answers 404.
    for (const w of h.sim.store.list()) if (w.name !== 'default') h.sim.store.delete(w.id);
    const swept = await sweepAndWait(daemon.app);
    expect(swept.sweep?.outcome).toBe('held');
    expect(h.sim.store.count()).toBe(1); // nothing minted
    await daemon.app.syncQueue.enqueue(
      rows.map((r) => r.id),
      'enqueue',
    );
    await waitForIdle(daemon.app);
    expect(h.sim.store.count()).toBeLessThanOrEqual(1 + 5);
    const { rows: links } = await h.database.pool.query<{ n: number }>(
      'select count(*)::int as n from customer_links',
    );
    expect(links[0]!.n).toBe(30); // nobody lost their link to a held re-creation
  });

  it('never links or changes a workspace of another organization', async () => {
    h = await startHarness();
    const foreign = h.sim.store.create('Acme', 'inactive');
    h.sim.store.markForeign(foreign.id, '00000000-0000-4000-8000-000000000001');
    await h.customers([{ id: 'c1', name: 'Acme' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const { rows } = await h.database.pool.query('select * from customer_links');
    expect(rows).toEqual([]);
    expect(h.sim.store.get(foreign.id)?.status).toBe('inactive');
    expect((await syncState(daemon.app, 'c1'))?.outcome).toBe('failed');
  });
});

describe('8. default is protected by what the API returns', () => {
  it('a workspace whose name folds to "default" is never linked, renamed, deactivated or deleted', async () => {
    h = await startHarness({ env: { ORPHANS: 'delete', DELETE_GRACE: '0' } });
    const shouty = h.sim.store.create('DEFAULT');
    await h.customers([
      { id: 'c1', name: 'Default' },
      { id: 'c2', name: 'Renamed Behind Our Back' },
    ]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const c2 = h.sim.store.findByName('Renamed Behind Our Back')!.id;
    // Someone renames c2's workspace to a case variant of default; then c2 is deleted.
    h.sim.store.rename(c2, 'Default ');
    h.sim.store.rename(c2, 'DeFault');
    await h.database.pool.query(`update customers set status = 'deleted' where id = 'c2'`);
    await waitForIdle(daemon.app);
    await sweepAndWait(daemon.app);
    expect(h.sim.store.get(shouty.id)?.status).toBe('active');
    expect(h.sim.store.get(c2)?.name).toBe('DeFault');
    expect(h.sim.store.get(c2)?.status).toBe('active');
    const { rows } = await h.database.pool.query<{ workspace_id: string }>(
      `select workspace_id from customer_links where workspace_id = $1`,
      [shouty.id],
    );
    expect(rows).toEqual([]);
    const { rows: orphans } = await h.database.pool.query('select name from orphans');
    expect(orphans).toEqual([]);
  });
});

describe('9. the grace is the one configured, to the millisecond', () => {
  it('DELETE_GRACE=0 deletes at the first sighting, every time; a grace of an hour only deactivates', async () => {
    // The due time is the sighting's database time plus the grace, and the decision compares it
    // with a reading taken a moment before: with no grace, whether the two fell in the same
    // millisecond decided between a delete and a deactivation (CI once saw the delete).
    const ids = Array.from({ length: 30 }, (_, i) => `c${i}`);
    const gate = { MAX_DESTRUCTIVE_PER_SWEEP: '100', MAX_DESTRUCTIVE_SHARE: '100%' };
    for (const grace of ['0', '1h']) {
      h = await startHarness({ env: { ...gate, DELETE_GRACE: grace } });
      await h.customers(ids.map((id) => ({ id, name: `Grace ${id}` })));
      const daemon = await h.startDaemon();
      await sweepAndWait(daemon.app);
      const wsIds = ids.map((id) => h!.sim.store.findByName(`Grace ${id}`)!.id);
      await h.database.pool.query(`update customers set status = 'deleted'`);
      await waitForIdle(daemon.app);
      const statuses = wsIds.map((id) => h!.sim.store.get(id)?.status ?? 'gone');
      expect(statuses).toEqual(ids.map(() => (grace === '0' ? 'gone' : 'inactive')));
      // At once means one call: no deactivation on the way (whose due-time recheck then deletes).
      const { rows } = await h.database.pool.query<{ actions: string[] }>(
        `select array_agg(action order by id) as actions from audit
          where outcome = 'ok' and action in ('deactivate', 'delete') group by customer_id`,
      );
      expect(rows.map((r) => r.actions)).toEqual(
        ids.map(() => [grace === '0' ? 'delete' : 'deactivate']),
      );
      await h.close();
      h = undefined;
    }
  });
});

describe('2. a sweep ends, and keeps one id', () => {
  it('a scheduled sweep run again (retaken after its daemon died) keeps one id and one row', async () => {
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Once' }]);
    const app = h.app();
    const prefix = `${h.prefix}-retake`;
    const queue = new Queue<SweepJobData>(SWEEP_QUEUE, { connection: app.redis, prefix });
    const worker = createSweepWorker({
      connection: connectRedis(h.config.redisUrl, { maxRetriesPerRequest: null }),
      prefix,
      deps: { ...app.sweepDeps(), syncQueue: { enqueue: async () => {} } },
      logger: h.logger,
    });
    try {
      void worker.run();
      for (let run = 0; run < 2; run++) {
        const job = await queue.add('sweep', { trigger: 'schedule' }, { jobId: 'scheduled-1' });
        await waitFor(async () => (await job.getState()) === 'completed', { what: 'the sweep' });
        await job.remove();
      }
      const { rows } = await h.database.pool.query<{ id: string }>('select id from sweeps');
      expect(rows).toEqual([
        { id: sweepIdOf({ id: 'scheduled-1', data: { trigger: 'schedule' } }) },
      ]);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('`sweep --wait` returns (exit 1) when its sweep job fails, even with its row left running', async () => {
    h = await startHarness();
    const app = h.app();
    const sweepId = '6d1f5c0e-0000-4000-8000-000000000001';
    await h.database.pool.query(
      `insert into sweeps (id, trigger, started_at) values ($1, 'manual', now())`,
      [sweepId],
    );
    await app.queues.sweep.add('sweep', { trigger: 'manual', sweepId }, { jobId: sweepId });
    const worker = new Worker(
      SWEEP_QUEUE,
      () => Promise.reject(new Error('the daemon died under it')),
      {
        connection: connectRedis(h.config.redisUrl, { maxRetriesPerRequest: null }),
        prefix: h.prefix,
      },
    );
    try {
      const summary = await Promise.race([
        waitForSweep(app, sweepId, { intervalMs: 50 }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('sweep --wait did not return')), 20_000),
        ),
      ]);
      expect(summary.exitCode).toBe(1);
      expect(summary.outcome).toBe('failed');
    } finally {
      await worker.close();
    }
  });
});

describe('identity: a mint whose answer was lost', () => {
  const INFO = 'GET /api/v1/account/applications/scoped-token/info';
  const MINT = 'POST /api/v1/account/applications/scoped-token';

  /**
   * Customer c1 named `name`, synced while `route` answers 500 every time, until it has: the
   * mint (`MINT`, nothing created) or the id after it (`INFO`, the workspace exists). `change`
   * then rewrites the row, the API recovers, and c1 is synced again.
   */
  async function lostMint(name: string, route: string, change: string) {
    h = await startHarness();
    await h.customers([{ id: 'c1', name }]);
    h.sim.faults.set({ p5xx: 1, statuses5xx: [500], onlyRoutes: [route] });
    const daemon = await h.startDaemon();
    await daemon.app.syncQueue.enqueue(['c1'], 'enqueue');
    await waitFor(() => h!.sim.stats.count(route, 500) >= 1 || undefined, { what: 'a failure' });
    await h.database.pool.query(`update customers set ${change} where id = 'c1'`);
    h.sim.faults.reset();
    await daemon.app.syncQueue.enqueue(['c1'], 'enqueue');
    return daemon;
  }

  it('a customer renamed after a mint whose id never came back keeps that workspace, renamed, and no stray is left', async () => {
    const daemon = await lostMint('Before Rename', INFO, `name = 'After Rename'`);
    await waitFor(() => h!.sim.store.findByName('After Rename'), { what: 'the rename' });
    await waitForIdle(daemon.app);

    const workspaces = h!.sim.store.list().filter((w) => w.name !== 'default');
    expect(workspaces.map((w) => w.name)).toEqual(['After Rename']);
    const { rows } = await h!.database.pool.query<{ workspace_id: string }>(
      `select workspace_id from customer_links where customer_id = 'c1'`,
    );
    expect(rows).toEqual([{ workspace_id: workspaces[0]!.id }]);
    // Found again without minting under the new name (which would have made a second one).
    expect(new Set(h!.sim.journal.mints.map((m) => m.name))).toEqual(new Set(['Before Rename']));
  });

  it('a customer deleted after a mint whose id never came back gets that workspace linked and deactivated', async () => {
    const daemon = await lostMint('Soon Gone', INFO, `status = 'deleted'`);
    await waitFor(() => h!.sim.store.findByName('Soon Gone')?.status === 'inactive' || undefined, {
      what: 'the deactivation',
    });
    await waitForIdle(daemon.app);
    const ws = h!.sim.store.findByName('Soon Gone')!;
    const { rows } = await h!.database.pool.query<{ workspace_id: string; due: boolean }>(
      `select workspace_id, delete_due_at is not null as due from customer_links where customer_id = 'c1'`,
    );
    // Linked, so it is deleted after DELETE_GRACE like any deleted customer's workspace.
    expect(rows).toEqual([{ workspace_id: ws.id, due: true }]);
    expect(names()).toEqual(['Soon Gone', 'default']);
  });

  it('when the lost mint never made a workspace, the new name is minted and nothing else', async () => {
    const daemon = await lostMint('Never Made', MINT, `name = 'Made Now'`);
    await waitFor(() => h!.sim.store.findByName('Made Now'), { what: 'the mint' });
    await waitForIdle(daemon.app);
    expect(names()).toEqual(['Made Now', 'default']);
  });

  it('a mint whose id read failed once is linked by its own token, so a rename behind our back before a retry makes no second workspace', async () => {
    // Found by the chaos run: the read failed (502), the job's next attempt minted by name again,
    // and the remote had renamed the first workspace in between: two workspaces, one a stray.
    h = await startHarness();
    await h.customers([{ id: 'c1', name: 'Acme' }]);
    h.sim.faults.set({ p5xx: 1, statuses5xx: [502], onlyRoutes: [INFO] });
    let failed = false;
    h.sim.stats.onAnswer((route, status) => {
      if (route !== INFO || status !== 502 || failed) return;
      failed = true;
      h!.sim.faults.reset();
    });
    // Any later mint finds the first workspace renamed remotely, as the chaos run's drift did.
    h.sim.stats.onArrival((route) => {
      const first = h!.sim.store.findByName('Acme');
      if (failed && route === MINT && first) h!.sim.store.rename(first.id, 'Acme (renamed)');
    });
    const daemon = await h.startDaemon();
    await daemon.app.syncQueue.enqueue(['c1'], 'enqueue');
    await waitFor(() => failed || undefined, { what: 'the failed read' });
    await waitForIdle(daemon.app);

    const live = h.sim.store.list().filter((w) => w.name !== 'default');
    expect(live.map((w) => w.name)).toEqual(['Acme']);
    const { rows } = await h.database.pool.query<{ workspace_id: string }>(
      `select workspace_id from customer_links where customer_id = 'c1'`,
    );
    expect(rows).toEqual([{ workspace_id: live[0]!.id }]);
    expect(h.sim.journal.mints).toHaveLength(1);
    expect(h.sim.stats.count(MINT)).toBe(1);
  });

  const names = () =>
    h!.sim.store
      .list()
      .map((w) => w.name)
      .sort();
});
