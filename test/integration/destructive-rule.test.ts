/**
 * "Destructive" is one rule (src/core/destructive.ts) with two forms: `isDestructive` for a change
 * in memory and `destructiveSql` for a row of `sweep_changes`. They agree on every action and
 * `from`, evaluated by Postgres; and `plan` counts what the sweep and the gate count, the
 * re-creation of a workspace that went missing included.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { destructiveSql, isDestructive } from '../../src/core/destructive.js';
import { ACTIONS, MISSING } from '../../src/core/types.js';
import type { PlanResult } from '../../src/ops/plan.js';
import { cli, spawnCli } from '../support/cli.js';
import { type Harness, startHarness } from '../support/harness.js';
import { sweepAndWait } from '../support/sweeps.js';

let h: Harness | undefined;
afterAll(async () => {
  await h?.close();
});

describe('the destructive rule', () => {
  it('reads the same in TypeScript and in SQL, for every action and from', async () => {
    h = await startHarness();
    const froms = [null, 'active', 'inactive', 'deleted', MISSING, 'Missing', 'Acme'];
    const cases = ACTIONS.flatMap((action) => froms.map((from) => ({ action, from })));
    const { rows } = await h.database.pool.query<{ i: number; destructive: boolean }>(
      `select t.i, ${destructiveSql('t')} is true as destructive
         from unnest($1::text[], $2::text[]) with ordinality as t(action, from_state, i)`,
      [cases.map((c) => c.action), cases.map((c) => c.from)],
    );
    const sql = rows.sort((a, b) => a.i - b.i).map((r) => r.destructive);
    expect(sql).toEqual(cases.map((c) => isDestructive(c)));
    // The rule is not vacuous: some of each.
    expect(sql.filter(Boolean).length).toBe(2 * froms.length + 1);
  });

  it('plan counts re-creations as destructive changes, as the sweep and the gate do', async () => {
    await h?.close();
    h = await startHarness({
      env: { MAX_DESTRUCTIVE_PER_SWEEP: '1', MAX_DESTRUCTIVE_SHARE: '10%' },
    });
    await h.customers([
      { id: 'c1', name: 'Gone One' },
      { id: 'c2', name: 'Gone Two' },
      { id: 'c3', name: 'Stays' },
    ]);
    const { app } = await h.startDaemon();
    await sweepAndWait(app);
    // Two workspaces vanish out of band: the plan re-creates them, two destructive changes.
    for (const name of ['Gone One', 'Gone Two'])
      h.sim.store.delete(h.sim.store.findByName(name)!.id);
    const [json, text] = await Promise.all([
      spawnCli(h.env, ['plan', '--json']),
      cli(h.env, ['plan']),
    ]);
    const plan = JSON.parse(json.stdout) as PlanResult;
    expect(plan.changes.map((c) => [c.customerId, c.action, c.from])).toEqual([
      ['c1', 'create', MISSING],
      ['c2', 'create', MISSING],
    ]);
    expect(plan.limitExceeded).toBe(true);
    expect(text.stdout).toMatch(
      /Held: YES — 2 destructive changes exceed MAX_DESTRUCTIVE_PER_SWEEP=1/,
    );
    expect(plan.destructive).toBe(2);
    // The sweep holds exactly those two.
    const swept = await sweepAndWait(app);
    expect(swept.sweep?.outcome).toBe('held');
    const { rows } = await h.database.pool.query<{ customer_id: string; action: string }>(
      `select customer_id, action from holds where state = 'held' order by customer_id`,
    );
    expect(rows).toEqual([
      { customer_id: 'c1', action: 'create' },
      { customer_id: 'c2', action: 'create' },
    ]);
  });
});
