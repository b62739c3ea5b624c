import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { type CustomerFacts, decideCustomer, type Policy } from '../../src/core/planner.js';
import { type Plan, plan, type PlanInput } from '../support/planOracle.js';
import type { Customer, Link, WorkspaceState } from '../../src/core/types.js';
import { DAY } from '../../src/lib/duration.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const policy: Policy = {
  nameTemplate: '{name}',
  deleteGraceMs: 7 * DAY,
  maxDestructivePerSweep: 1_000_000,
  maxDestructiveShare: 1,
  orphans: 'report',
};
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const customer = (
  id: string,
  name: string,
  status: Customer['status'] = 'active',
  createdAt = 0,
) => ({
  id,
  name,
  status,
  createdAt,
});
const link = (customerId: string, workspaceId: string, extra: Partial<Link> = {}): Link => ({
  customerId,
  workspaceId,
  workspaceName: '',
  deletedSeenAt: null,
  deleteDueAt: null,
  ...extra,
});
const input = (over: Partial<PlanInput>): PlanInput => ({
  customers: [],
  links: [],
  workspaces: [{ id: uuid(0), name: 'default', status: 'active' }],
  listingComplete: true,
  policy,
  now: NOW,
  ...over,
});
const actions = (p: Plan) => p.changes.map((c) => `${c.action}:${c.customerId ?? c.workspaceId}`);

describe('plan: examples', () => {
  it('creates, renames, activates and deactivates by status', () => {
    const p = plan(
      input({
        customers: [
          customer('c1', 'New Co'),
          customer('c2', 'Renamed Co'),
          customer('c3', 'Back Co'),
          customer('c4', 'Suspended Co', 'inactive'),
        ],
        links: [link('c2', uuid(2)), link('c3', uuid(3)), link('c4', uuid(4))],
        workspaces: [
          { id: uuid(2), name: 'Old Name', status: 'active' },
          { id: uuid(3), name: 'Back Co', status: 'inactive' },
          { id: uuid(4), name: 'Suspended Co', status: 'active' },
        ],
      }),
    );
    expect(actions(p)).toEqual(['create:c1', 'rename:c2', 'activate:c3', 'deactivate:c4']);
    expect(p.changes[1]).toMatchObject({
      from: 'Old Name',
      to: 'Renamed Co',
      workspaceId: uuid(2),
    });
  });

  it('adopts by exact name only a workspace no one links to, never the default', () => {
    const p = plan(
      input({
        customers: [customer('c1', 'Acme'), customer('c2', 'Globex'), customer('c3', 'default')],
        links: [link('c9', uuid(9))],
        workspaces: [
          { id: uuid(0), name: 'default', status: 'active' },
          { id: uuid(1), name: 'Acme', status: 'inactive' },
          { id: uuid(9), name: 'Globex', status: 'active' },
        ],
      }),
    );
    expect(actions(p)).toEqual(['adopt:c1', 'activate:c1']);
    expect(p.conflicts.map((c) => c.customerId)).toEqual(['c2', 'c3']);
    expect(p.conflicts[0]?.reason).toContain('belongs to customer c9');
  });

  it('gives a name two customers want to the first signed up; the second gets a conflict', () => {
    const p = plan(
      input({
        customers: [customer('b', 'Same', 'active', 1), customer('a', 'Same', 'active', 2)],
      }),
    );
    expect(actions(p)).toEqual(['create:b']);
    expect(p.conflicts).toEqual([
      expect.objectContaining({ customerId: 'a', reason: expect.stringContaining('customer b') }),
    ]);
  });

  it('never renames onto a taken name', () => {
    const p = plan(
      input({
        customers: [customer('c1', 'Taken')],
        links: [link('c1', uuid(1))],
        workspaces: [
          { id: uuid(1), name: 'Mine', status: 'active' },
          { id: uuid(2), name: 'Taken', status: 'active' },
        ],
      }),
    );
    expect(p.changes).toEqual([]);
    expect(p.conflicts[0]?.reason).toContain(`workspace ${uuid(2)} has that name`);
  });

  it('deactivates a deleted customer at once and deletes it when the grace has passed', () => {
    const ws = { id: uuid(1), name: 'Gone', status: 'active' as const };
    const fresh = plan(
      input({
        customers: [customer('c1', 'Gone', 'deleted')],
        links: [link('c1', uuid(1))],
        workspaces: [ws],
      }),
    );
    expect(actions(fresh)).toEqual(['deactivate:c1']);
    const due = plan(
      input({
        customers: [customer('c1', 'Gone', 'deleted')],
        links: [link('c1', uuid(1), { deletedSeenAt: NOW - 8 * DAY, deleteDueAt: NOW - DAY })],
        workspaces: [{ ...ws, status: 'inactive' }],
      }),
    );
    expect(actions(due)).toEqual(['delete:c1']);
    const noGrace = plan(
      input({
        customers: [customer('c1', 'Gone', 'deleted')],
        links: [link('c1', uuid(1))],
        workspaces: [ws],
        policy: { ...policy, deleteGraceMs: 0 },
      }),
    );
    expect(actions(noGrace)).toEqual(['delete:c1']);
  });

  it('plans no delete or deactivation from an incomplete listing, but still creates and renames', () => {
    const p = plan(
      input({
        listingComplete: false,
        customers: [
          customer('c1', 'New'),
          customer('c2', 'Off', 'inactive'),
          customer('c3', 'Ren'),
        ],
        links: [link('c2', uuid(2)), link('c3', uuid(3))],
        workspaces: [
          { id: uuid(2), name: 'Off', status: 'active' },
          { id: uuid(3), name: 'Old', status: 'active' },
          { id: uuid(4), name: 'orphan', status: 'active' },
        ],
        policy: { ...policy, orphans: 'delete' },
      }),
    );
    expect(actions(p)).toEqual(['create:c1', 'rename:c3']);
  });

  it('treats orphans per policy and never touches the default workspace', () => {
    const workspaces: WorkspaceState[] = [
      { id: uuid(0), name: 'default', status: 'active' },
      { id: uuid(5), name: 'stray', status: 'active' },
    ];
    expect(plan(input({ workspaces })).changes).toEqual([]);
    expect(plan(input({ workspaces })).orphans.map((o) => o.name)).toEqual(['stray']);
    const off = plan(input({ workspaces, policy: { ...policy, orphans: 'deactivate' } }));
    expect(actions(off)).toEqual([`deactivate:${uuid(5)}`]);
    const del = plan(input({ workspaces, policy: { ...policy, orphans: 'delete' } }));
    expect(actions(del)).toEqual([`delete:${uuid(5)}`]);
  });

  it('holds destructive changes past both the count and the share', () => {
    const n = 40;
    const customers = Array.from({ length: n }, (_, i) => customer(`c${i}`, `C${i}`, 'inactive'));
    const links = customers.map((c, i) => link(c.id, uuid(i + 1)));
    const workspaces = customers.map((c, i) => ({
      id: uuid(i + 1),
      name: c.name,
      status: 'active' as const,
    }));
    const limits = { ...policy, maxDestructivePerSweep: 20, maxDestructiveShare: 0.1 };
    expect(plan(input({ customers, links, workspaces, policy: limits })).held).toBe(true);
    // Within the count: not held, whatever the share.
    expect(
      plan(
        input({ customers, links, workspaces, policy: { ...limits, maxDestructivePerSweep: 40 } }),
      ).held,
    ).toBe(false);
    // Within the share: not held, whatever the count.
    expect(
      plan(input({ customers, links, workspaces, policy: { ...limits, maxDestructiveShare: 1 } }))
        .held,
    ).toBe(false);
  });

  it('recreates a workspace deleted behind its back, under the current name only', () => {
    const p = plan(
      input({
        customers: [customer('c1', 'Now Named')],
        links: [link('c1', uuid(1), { workspaceName: 'Was Named' })],
      }),
    );
    expect(p.changes).toEqual([
      { customerId: 'c1', action: 'create', workspaceId: null, from: 'missing', to: 'Now Named' },
    ]);
  });

  it('applies the name template', () => {
    const p = plan(
      input({
        customers: [customer('cus_1', 'Acme')],
        policy: { ...policy, nameTemplate: 'acme-{id} ({name})' },
      }),
    );
    expect(p.changes[0]?.to).toBe('acme-cus_1 (Acme)');
  });

  it('gives a customer with no name no workspace, and leaves the one it has as it is', () => {
    const p = plan(
      input({
        customers: [
          customer('c1', ''),
          customer('c2', ' \t'),
          customer('c3', '', 'inactive'),
          customer('c4', '', 'deleted'),
        ],
        links: [link('c3', uuid(3)), link('c4', uuid(4))],
        workspaces: [
          { id: uuid(3), name: 'Was Named', status: 'active' },
          { id: uuid(4), name: 'Gone Co', status: 'active' },
        ],
      }),
    );
    // No create, no rename to ""; the status change and the deleted customer's deactivation
    // still happen (they do not need a name).
    expect(actions(p)).toEqual(['deactivate:c3', 'deactivate:c4']);
    expect(p.conflicts.map((c) => [c.customerId, c.reason])).toEqual([
      [
        'c1',
        'customer c1 has no name (NULL, empty or blank in the source): no workspace is made for it until it has one',
      ],
      [
        'c2',
        'customer c2 has no name (NULL, empty or blank in the source): no workspace is made for it until it has one',
      ],
      [
        'c3',
        `customer c3 has no name (NULL, empty or blank in the source): workspace ${uuid(3)} keeps its name until it has one`,
      ],
    ]);
    // A template that does not use the name does not need one.
    const byId = plan(
      input({ customers: [customer('c1', '')], policy: { ...policy, nameTemplate: 'ws-{id}' } }),
    );
    expect(actions(byId)).toEqual(['create:c1']);
  });
});

// ---- properties -------------------------------------------------------------------------------

const NAMES = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'default'];

/** Random fleets: customers, some linked, workspaces some linked, some stray, some renamed. */
const fleet = fc
  .record({
    customers: fc.uniqueArray(
      fc.record({
        id: fc.stringMatching(/^c[0-9]{1,2}$/),
        name: fc.constantFrom(...NAMES),
        status: fc.constantFrom('active', 'inactive', 'deleted'),
        createdAt: fc.integer({ min: 0, max: 5 }),
      }),
      { selector: (c) => c.id, maxLength: 12 },
    ),
    strays: fc.array(
      fc.record({
        name: fc.constantFrom(...NAMES, 'x', 'y'),
        status: fc.constantFrom('active', 'inactive'),
      }),
      { maxLength: 4 },
    ),
    linkMask: fc.array(
      fc.record({
        linked: fc.boolean(),
        present: fc.boolean(),
        renamed: fc.boolean(),
        status: fc.constantFrom('active', 'inactive'),
        due: fc.constantFrom(null, -1, 1),
      }),
      { minLength: 12, maxLength: 12 },
    ),
    grace: fc.constantFrom(0, 7 * DAY),
    orphans: fc.constantFrom('report', 'deactivate', 'delete'),
  })
  .map(({ customers, strays, linkMask, grace, orphans }) => {
    const workspaces: WorkspaceState[] = [{ id: uuid(0), name: 'default', status: 'active' }];
    const links: Link[] = [];
    const names = new Set(['default']);
    customers.forEach((c, i) => {
      const m = linkMask[i]!;
      if (!m.linked) return;
      const id = uuid(100 + i);
      let name = m.renamed ? `${c.name} old ${i}` : c.name;
      if (names.has(name)) name = `${c.name} dup ${i}`;
      links.push(link(c.id, id, { deleteDueAt: m.due === null ? null : NOW + m.due * DAY }));
      if (m.present) {
        names.add(name);
        workspaces.push({ id, name, status: m.status });
      }
    });
    strays.forEach((s, i) => {
      if (names.has(s.name)) return;
      names.add(s.name);
      workspaces.push({ id: uuid(500 + i), name: s.name, status: s.status });
    });
    return input({
      customers,
      links,
      workspaces,
      policy: { ...policy, deleteGraceMs: grace, orphans },
    });
  });

let minted = 0;

/** Carries a plan out on the in-memory state, the way the sync jobs do against the API. */
function apply(state: PlanInput, p: Plan): PlanInput {
  const workspaces = new Map(state.workspaces.map((w) => [w.id, { ...w }]));
  const links = new Map(state.links.map((l) => [l.customerId, { ...l }]));
  const statusOf = new Map(state.customers.map((c) => [c.id, c.status]));
  for (const change of p.changes) {
    const id = change.workspaceId;
    switch (change.action) {
      case 'create': {
        const created = uuid(1000 + minted++);
        const status = statusOf.get(change.customerId!) === 'inactive' ? 'inactive' : 'active';
        workspaces.set(created, { id: created, name: change.to!, status });
        links.set(change.customerId!, link(change.customerId!, created));
        break;
      }
      case 'adopt':
        links.set(change.customerId!, link(change.customerId!, id!));
        break;
      case 'rename':
        workspaces.get(id!)!.name = change.to!;
        break;
      case 'activate':
      case 'deactivate':
        workspaces.get(id!)!.status = change.action === 'activate' ? 'active' : 'inactive';
        break;
      case 'delete':
        workspaces.delete(id!);
        if (change.customerId) links.delete(change.customerId);
        break;
    }
  }
  // A deleted customer's due time is recorded the first time it is seen deleted.
  for (const l of links.values()) {
    if (statusOf.get(l.customerId) === 'deleted' && l.deleteDueAt === null) {
      links.set(l.customerId, {
        ...l,
        deletedSeenAt: state.now,
        deleteDueAt: state.now + state.policy.deleteGraceMs,
      });
    }
  }
  return { ...state, workspaces: [...workspaces.values()], links: [...links.values()] };
}

describe('plan: properties', () => {
  it('a plan applied to its input leaves a state the planner finds in step', () => {
    fc.assert(
      fc.property(fleet, (state) => {
        // One round converges, except where a delete frees a name another customer wants: that
        // customer's create waits for the next sweep (never racing the delete for the name).
        const first = plan(state);
        let current = apply(state, first);
        let next = plan(current);
        if (!first.changes.some((c) => c.action === 'delete')) expect(next.changes).toEqual([]);
        current = apply(current, next);
        next = plan(current);
        expect(next.changes).toEqual([]);
        expect(plan(apply(current, next)).conflicts).toEqual(next.conflicts);
      }),
      { numRuns: 500 },
    );
  });

  it('never plans two customers onto one workspace or one name', () => {
    fc.assert(
      fc.property(fleet, (state) => {
        const p = plan(state);
        const taken = new Map(state.links.map((l) => [l.workspaceId, l.customerId]));
        const existing = new Set(state.workspaces.map((w) => w.name));
        const claimed = new Set<string>();
        for (const c of p.changes) {
          if (c.action === 'adopt') {
            expect(taken.get(c.workspaceId!) ?? c.customerId).toBe(c.customerId);
            expect(claimed.has(c.to!)).toBe(false);
            claimed.add(c.to!);
          }
          if (c.action === 'create' || c.action === 'rename') {
            expect(claimed.has(c.to!)).toBe(false);
            expect(c.action === 'create' && existing.has(c.to!)).toBe(false);
            claimed.add(c.to!);
          }
        }
        const resulting = apply(state, p).workspaces.map((w) => w.name);
        expect(new Set(resulting).size).toBe(resulting.length);
      }),
      { numRuns: 500 },
    );
  });

  it('never deletes or deactivates from an incomplete listing, nor touches the default', () => {
    fc.assert(
      fc.property(fleet, fc.integer({ min: 0, max: 10 }), (state, keep) => {
        const partial = {
          ...state,
          listingComplete: false,
          workspaces: state.workspaces.slice(0, keep),
        };
        const p = plan(partial);
        expect(p.changes.filter((c) => c.action === 'delete' || c.action === 'deactivate')).toEqual(
          [],
        );
        const all = plan(state);
        expect(all.changes.some((c) => c.workspaceId === uuid(0))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decideCustomer: a reported orphan of the wanted name', () => {
  const facts = (over: Partial<CustomerFacts> = {}): CustomerFacts => ({
    customer: customer('c1', 'Picked'),
    link: null,
    linked: null,
    named: { workspace: { id: uuid(9), name: 'Picked', status: 'active' }, linkedTo: null },
    nameOwner: 'c1',
    ...over,
  });

  it('is adopted by name only while no listing has reported it as an orphan', () => {
    expect(decideCustomer(facts(), policy, NOW).changes.map((c) => c.action)).toEqual(['adopt']);
    const reported = decideCustomer(facts({ reportedOrphan: uuid(9) }), policy, NOW);
    expect(reported.changes).toEqual([]);
    expect(reported.conflict?.reason).toMatch(/reported as an orphan.*adopt c1/);
  });

  it('blocks a create (which would find it by name) and a re-creation of a vanished link alike', () => {
    const create = decideCustomer(facts({ named: null, reportedOrphan: uuid(9) }), policy, NOW);
    expect(create.conflict?.reason).toMatch(/reported as an orphan/);
    const recreate = decideCustomer(
      facts({ named: null, link: link('c1', uuid(3)), linked: 'missing', reportedOrphan: uuid(9) }),
      policy,
      NOW,
    );
    expect(recreate.changes).toEqual([]);
    expect(recreate.conflict?.reason).toMatch(/reported as an orphan/);
  });
});
