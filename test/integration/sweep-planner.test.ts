/**
 * The streaming sweep (facts gathered in SQL, a batch at a time) must decide exactly what the
 * in-memory planner, the specification, decides for the same fleet. Random fleets, both ways.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Plan, plan } from '../support/planOracle.js';
import type { Change, Customer, Link, WorkspaceState } from '../../src/core/types.js';
import { DAY } from '../../src/lib/duration.js';
import { runSweep } from '../../src/sync/sweep.js';
import { type Harness, startHarness } from '../support/harness.js';

// The sweep decides due times on the database's clock: the fixture's are a day either side of it.
const NOW = Date.now();
const NAMES = ['Acme', 'Globex', 'Initech', 'Hooli', 'default'];

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ env: { DELETE_GRACE: '7d', ORPHANS: 'deactivate' } });
});
afterAll(async () => {
  await h.close();
});

const fleet = fc.record({
  customers: fc.uniqueArray(
    fc.record({
      id: fc.stringMatching(/^c[0-9]{1,2}$/),
      name: fc.constantFrom(...NAMES),
      status: fc.constantFrom('active', 'inactive', 'deleted'),
      day: fc.integer({ min: 0, max: 3 }),
      link: fc.constantFrom('none', 'present', 'renamed', 'missing'),
      remote: fc.constantFrom('active', 'inactive'),
      due: fc.constantFrom(null, -1, 1),
    }),
    { selector: (c) => c.id, maxLength: 10 },
  ),
  strays: fc.uniqueArray(fc.constantFrom('Acme', 'Hooli', 'x', 'y'), { maxLength: 3 }),
});

type Fleet = typeof fleet extends fc.Arbitrary<infer T> ? T : never;

/** Lays the fleet out in Postgres and the simulator; returns the planner's view of it. */
async function layOut(f: Fleet) {
  await h.database.truncate();
  for (const w of h.sim.store.list()) if (w.name !== 'default') h.sim.store.delete(w.id);
  const customers: Customer[] = [];
  const links: Link[] = [];
  const taken = new Set(['default']);
  let n = 0;
  for (const c of f.customers) {
    customers.push({
      id: c.id,
      name: c.name,
      status: c.status,
      createdAt: Date.UTC(2026, 0, 1 + c.day),
    });
    if (c.link === 'none') continue;
    let workspaceId = `00000000-0000-4000-8000-${String(900 + n++).padStart(12, '0')}`;
    if (c.link !== 'missing') {
      let name = c.link === 'renamed' ? `${c.name} old ${c.id}` : c.name;
      if (taken.has(name)) name = `${name} dup ${c.id}`;
      taken.add(name);
      workspaceId = h.sim.store.create(name, c.remote).id;
    }
    const due = c.due === null ? null : NOW + c.due * DAY;
    links.push({
      customerId: c.id,
      workspaceId,
      workspaceName: '',
      deletedSeenAt: due && due - 7 * DAY,
      deleteDueAt: due,
    });
  }
  for (const name of f.strays) {
    if (taken.has(name)) continue;
    taken.add(name);
    h.sim.store.create(name);
  }
  for (const c of customers) {
    await h.database.pool.query(
      `insert into customers (id, name, status, created_at) values ($1, $2, $3, $4)`,
      [c.id, c.name, c.status, c.createdAt === null ? null : new Date(c.createdAt)],
    );
  }
  for (const l of links) {
    await h.database.pool.query(
      // Linked before the sweep on its clock (a link made after the listing began is left out).
      `insert into customer_links (customer_id, workspace_id, workspace_name, deleted_seen_at, delete_due_at, linked_at)
       values ($1, $2, $3, $4, $5, $6)`,
      [
        l.customerId,
        l.workspaceId,
        l.workspaceName,
        l.deletedSeenAt && new Date(l.deletedSeenAt),
        l.deleteDueAt && new Date(l.deleteDueAt),
        new Date(NOW - 60_000),
      ],
    );
  }
  const workspaces: WorkspaceState[] = h.sim.store
    .list()
    .map((w) => ({ id: w.id, name: w.name, status: w.status }));
  return { customers, links, workspaces };
}

const key = (c: Change) =>
  `${c.action} ${c.customerId ?? '-'} ${c.workspaceId ?? '-'} ${c.from ?? '-'} ${c.to ?? '-'}`;

describe('the streaming sweep against the planner', () => {
  it('plans the same changes, conflicts, orphans and hold as the in-memory planner', async () => {
    const app = h.app();
    const deps = app.sweepDeps();
    await fc.assert(
      fc.asyncProperty(fleet, async (f) => {
        const state = await layOut(f);
        const changes: Change[] = [];
        const conflicts: string[] = [];
        const orphans: string[] = [];
        const report = await runSweep(deps, {
          trigger: 'manual',
          dryRun: true,
          onChange: (c) => changes.push(c),
          onConflict: (c) => conflicts.push(c.customerId),
          onOrphan: (o) => orphans.push(o.id),
        });
        const expected: Plan = plan({
          ...state,
          listingComplete: true,
          policy: app.policy,
          now: NOW,
        });
        expect(changes.map(key).sort()).toEqual(expected.changes.map(key).sort());
        expect(conflicts.sort()).toEqual(expected.conflicts.map((c) => c.customerId).sort());
        expect(orphans.sort()).toEqual(expected.orphans.map((o) => o.id).sort());
        expect(report.held).toBe(expected.held);
      }),
      { numRuns: 25 },
    );
  });
});
