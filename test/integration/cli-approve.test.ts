/**
 * `approve` and the held path of `plan` and `sweep --wait`: a mass-change limit of one, direct
 * writes that deactivate several customers (held by the rolling window), a sweep that would hold
 * them too, then releasing one hold and the rest.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import type { PlanResult } from '../../src/ops/plan.js';
import type { StatusReport } from '../../src/ops/status.js';
import { type Harness, startHarness, waitForIdle } from '../support/harness.js';
import { waitFor } from '../support/wait.js';
import { cli } from '../support/cli.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { MAX_DESTRUCTIVE_PER_SWEEP: '1', MAX_DESTRUCTIVE_SHARE: '10%' } });
  await h.customers(
    Array.from({ length: 10 }, (_, i) => ({ id: `cus_${i}`, name: `Customer ${i}` })),
  );
});
afterAll(async () => {
  await h?.close();
});

const statusOf = async () =>
  JSON.parse((await cli(h.env, ['status', '--json'])).stdout) as StatusReport;
const inactive = () =>
  h.sim.store
    .list()
    .filter((w) => w.status === 'inactive')
    .map((w) => w.name)
    .sort();

it('holds past the limit show in plan, sweep --wait and status, and approve releases them', async () => {
  const daemon = await h.startDaemon();
  const first = await cli(h.env, ['sweep', '--wait']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(first.stdout.trimEnd().split('\n').at(-1)).toBe('result: all done, in step (exit 0)');

  await h.database.pool.query(
    `update customers set status = 'inactive', updated_at = now() where id in ('cus_1', 'cus_2', 'cus_3', 'cus_4')`,
  );
  // The first deactivation fits the window's limit; the other three are held (no sweep id).
  const held = await waitFor(
    async () => {
      const s = await statusOf();
      return s.held.length === 3 ? s.held : undefined;
    },
    { what: 'three holds' },
  );
  await waitForIdle(daemon.app);
  expect(held.every((x) => x.sweepId === null && x.action === 'deactivate')).toBe(true);
  expect(inactive()).toHaveLength(1);

  const plan = JSON.parse((await cli(h.env, ['plan', '--json'])).stdout) as PlanResult;
  expect(plan.held).toBe(true);
  expect(plan.changes.filter((c) => c.action === 'deactivate')).toHaveLength(3);
  const text = await cli(h.env, ['plan']);
  expect(text.stdout).toMatch(/Held: YES/);

  const sweep = await cli(h.env, ['sweep', '--wait']);
  expect(sweep.code).toBe(1);
  expect(sweep.stdout.trimEnd().split('\n').at(-1)).toMatch(
    /^result: changes held for approval \(`approve \S+`\) \(exit 1\)$/,
  );
  const sweepId = /^sweep (\S+) queued/.exec(sweep.stdout)?.[1];
  const status = await statusOf();
  expect(status.sweeps.find((s) => s.id === sweepId)).toMatchObject({ outcome: 'held' });
  expect((await cli(h.env, ['status'])).stdout).toMatch(/Held changes \(3\)/);

  const one = held[0]!;
  const approved = await cli(h.env, ['approve', String(one.holdId)]);
  expect(approved.code, approved.stderr).toBe(0);
  expect(approved.stdout).toContain(`approved hold ${one.holdId}: deactivate ${one.customerId}`);
  await waitFor(() => inactive().length === 2, { what: 'the approved deactivation' });
  expect((await cli(h.env, ['approve', String(one.holdId)])).stdout).toMatch(/nothing held there/);

  const rest = await cli(h.env, ['approve', '--all']);
  expect(rest.code).toBe(0);
  expect(rest.stdout).toMatch(/approved 2 changes; queued 2 syncs/);
  await waitFor(() => inactive().length === 4, { what: 'every deactivation' });
  await waitForIdle(daemon.app);
  expect((await statusOf()).held).toEqual([]);
  expect(inactive()).toEqual(['Customer 1', 'Customer 2', 'Customer 3', 'Customer 4']);
});
