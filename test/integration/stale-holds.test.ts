/**
 * Issue 24, item 4: a held change whose reason is gone is dropped, not left waiting for an
 * approval that would now do nothing or something else. Staleness is checked where each trigger
 * already looks: a sync drops its own subject's holds, a sweep drops those of customers its plan
 * finds in step, and an approval decides each hold again against the customer's current row.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { approve } from '../../src/ops/approve.js';
import { getStatus } from '../../src/ops/status.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';
import { waitFor } from '../support/wait.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Every destructive change outside a sweep is held: the window's limit is zero. */
const HOLD_ALL = { MAX_DESTRUCTIVE_PER_SWEEP: '0', MAX_DESTRUCTIVE_SHARE: '1%' };

async function holdOf(harness: Harness, id: number) {
  const { rows } = await harness.database.pool.query<{ state: string }>(
    'select state from holds where id = $1',
    [id],
  );
  return rows[0]?.state;
}

/** A hold made an hour ago, as a trigger that saw another row then would have made it. */
async function staleHold(
  harness: Harness,
  subject: { customerId: string | null; workspaceId?: string },
  action = 'deactivate',
): Promise<number> {
  const { rows } = await harness.database.pool.query<{ id: number }>(
    `insert into holds (customer_id, workspace_id, action, created_at)
     values ($1, $2, $3, now() - interval '1 hour') returning id::int`,
    [subject.customerId, subject.workspaceId ?? null, action],
  );
  return rows[0]!.id;
}

describe('a sweep drops the holds its plan no longer calls for', () => {
  it('the hold of a customer active and in step again is void after a sweep', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'c1', name: 'Back Again' },
      { id: 'c2', name: 'Still Paused', status: 'inactive' },
    ]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    const stale = await staleHold(h, { customerId: 'c1' });
    // c2 is inactive and in step (its workspace is inactive): a deactivation would do nothing.
    const done = await staleHold(h, { customerId: 'c2' });
    await sweepAndWait(daemon.app);
    expect(await holdOf(h, stale)).toBe('void');
    expect(await holdOf(h, done)).toBe('void');
    expect((await getStatus(daemon.app)).held).toEqual([]);
  });

  it('after a source outage, the rows coming back drop every hold the outage made', async () => {
    h = await startHarness();
    const fleet = Array.from({ length: 10 }, (_, i) => ({ id: `cus_${i}`, name: `Fleet ${i}` }));
    await h.customers(fleet);
    let daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    await h.database.pool.query('create table saved as select * from customers');
    await h.database.pool.query('delete from customers');
    await waitFor(async () => (await getStatus(daemon.app)).held.length === 10, {
      what: 'the outage holds',
    });
    await waitForIdle(daemon.app);
    await daemon.close();

    // The rows come back while no daemon listens: only the next sweep can notice.
    await h.database.pool.query('insert into customers select * from saved');
    daemon = await h.startDaemon();
    const sweep = await sweepAndWait(daemon.app);
    expect(sweep.sweep?.outcome).toBe('ok');
    const status = await getStatus(daemon.app);
    expect(status.held).toEqual([]);
    expect(status.sourceOutage).toBeNull();
    expect(h.sim.store.list().filter((w) => w.status === 'inactive')).toEqual([]);
  });
});

describe('a sync drops its own holds', () => {
  it('a customer that comes back before approval: its sync voids the hold, and nothing is deactivated', async () => {
    h = await startHarness({ env: HOLD_ALL });
    await h.customers([{ id: 'c1', name: 'Wavering' }]);
    const daemon = await h.startDaemon();
    await sweepAndWait(daemon.app);
    await h.database.pool.query(`update customers set status = 'inactive' where id = 'c1'`);
    const [held] = await waitFor(
      async () => {
        const s = await getStatus(daemon.app);
        return s.held.length === 1 ? s.held : undefined;
      },
      { what: 'the hold' },
    );
    await h.database.pool.query(`update customers set status = 'active' where id = 'c1'`);
    await waitFor(async () => (await holdOf(h!, held!.holdId)) === 'void', {
      what: 'the hold dropped',
    });
    expect(h.sim.store.findByName('Wavering')?.status).toBe('active');
  });

  it("an orphan's hold is void once its workspace is linked to a customer", async () => {
    h = await startHarness({ env: { ...HOLD_ALL, ORPHANS: 'deactivate' } });
    const ws = h.sim.store.create('Stray', 'active');
    const daemon = await h.startDaemon();
    const id = await staleHold(h, { customerId: null, workspaceId: ws.id });
    await h.customers([{ id: 'c9', name: 'Stray' }]);
    await h.database.pool.query(
      `insert into customer_links (customer_id, workspace_id, workspace_name, workspace_status)
       values ('c9', $1, 'Stray', 'active')`,
      [ws.id],
    );
    await daemon.app.syncQueue.enqueue([`workspace:${ws.id}`], 'enqueue');
    await waitForIdle(daemon.app);
    expect(await holdOf(h, id)).toBe('void');
    expect(h.sim.store.get(ws.id)?.status).toBe('active');
  });
});

describe('an approval decides each hold again against the current row', () => {
  it('drops the hold of a customer active again, approves the one still called for, and queues only that', async () => {
    h = await startHarness();
    await h.customers([
      { id: 'c1', name: 'Came Back' },
      { id: 'c2', name: 'Really Paused', status: 'inactive' },
    ]);
    const app = h.app();
    const stale = await staleHold(h, { customerId: 'c1' });
    const wanted = await staleHold(h, { customerId: 'c2' });
    const result = await approve(app, { kind: 'all' });
    expect(result.approved.map((a) => a.holdId)).toEqual([wanted]);
    expect(result.dropped).toEqual([
      expect.objectContaining({ holdId: stale, subject: 'c1', action: 'deactivate' }),
    ]);
    expect(result.queued).toBe(1);
    expect(await holdOf(h, stale)).toBe('void');
    expect(await holdOf(h, wanted)).toBe('approved');
    const { rows } = await h.database.pool.query<{ outcome: string; message: string }>(
      `select outcome, message from audit where customer_id = 'c1'`,
    );
    expect(rows).toEqual([
      {
        outcome: 'skipped',
        message: `hold ${stale} dropped, not approved, by cli: customer c1 is active now: its row no longer calls for a deactivate`,
      },
    ]);
  });

  it("drops an orphan's hold whose workspace is linked now", async () => {
    h = await startHarness();
    const ws = h.sim.store.create('Claimed', 'active');
    await h.customers([{ id: 'c1', name: 'Claimed' }]);
    await h.database.pool.query(
      `insert into customer_links (customer_id, workspace_id, workspace_name, workspace_status)
       values ('c1', $1, 'Claimed', 'active')`,
      [ws.id],
    );
    const id = await staleHold(h, { customerId: null, workspaceId: ws.id }, 'delete');
    const result = await approve(h.app(), { kind: 'hold', holdId: id });
    expect(result.approved).toEqual([]);
    expect(result.dropped.map((d) => d.holdId)).toEqual([id]);
    expect(await holdOf(h, id)).toBe('void');
  });
});
