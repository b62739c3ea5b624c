/**
 * The simulator's workspace store, without HTTP: names unique among live workspaces, tombstones,
 * snapshots, all-or-nothing updates and seeds, and paging checked against a plain model under
 * random changes (including at a depth where a scan per page would show).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ManualClock } from '../../src/lib/clock.js';
import { SECOND } from '../../src/lib/duration.js';
import { type ListFilter, StoreError, WorkspaceStore } from '../../simulator/store.js';
import type { SimWorkspace } from '../../simulator/workspace.js';

const ORG = '7d3c1b52-9e4f-4a8b-b6d0-2f5e8c9a1d34';
const newStore = (clock = new ManualClock(0)) => new WorkspaceStore(ORG, clock);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
  return undefined;
}

describe('workspace store', () => {
  it('starts with `default` and hands out the eight fields', () => {
    const store = newStore();
    expect(store.list()).toEqual([
      {
        id: expect.any(String),
        name: 'default',
        organizationId: ORG,
        status: 'active',
        cacheEnabled: null,
        tombstone: false,
        createdAt: '1970-01-01T00:00:00.000000Z',
        updatedAt: '1970-01-01T00:00:00.000000Z',
      },
    ]);
  });

  it('keeps names unique among live workspaces only', () => {
    const store = newStore();
    const a = store.create('A');
    expect(code(() => store.create('A'))).toBe('name_taken');
    const b = store.create('B');
    expect(code(() => store.rename(b.id, 'A'))).toBe('name_taken');
    expect(store.rename(a.id, 'A').name).toBe('A'); // its own name is fine
    store.delete(a.id);
    expect(store.create('A').id).not.toBe(a.id);
    expect(code(() => store.create(' '))).toBe('invalid');
  });

  it('hides tombstones from get, findByName, list and counts', () => {
    const clock = new ManualClock(0);
    const store = newStore(clock);
    const ws = store.create('Gone', 'inactive');
    clock.advance(SECOND);
    expect(store.delete(ws.id)).toEqual({ id: ws.id, deletedAt: '1970-01-01T00:00:01.000000Z' });
    expect(store.get(ws.id)).toBeUndefined();
    expect(store.findByName('Gone')).toBeUndefined();
    expect(store.getIncludingDeleted(ws.id)).toMatchObject({ tombstone: true, status: 'inactive' });
    expect(store.counts()).toEqual({ active: 1, inactive: 0, total: 1 });
    expect(code(() => store.delete(ws.id))).toBe('not_found');
    expect(code(() => store.setStatus(ws.id, 'active'))).toBe('not_found');
  });

  it('hands out frozen snapshots and updates all or nothing', () => {
    const clock = new ManualClock(0);
    const store = newStore(clock);
    const before = store.create('A');
    store.create('B');
    expect(Object.isFrozen(before)).toBe(true);
    expect(code(() => store.update(before.id, { status: 'inactive', name: 'B' }))).toBe(
      'name_taken',
    );
    expect(store.get(before.id)?.status).toBe('active');
    clock.advance(SECOND);
    expect(store.update(before.id, {}).updatedAt).toBe(before.updatedAt); // nothing changed
    const after = store.update(before.id, { cacheEnabled: false });
    expect(after).toMatchObject({ cacheEnabled: false, updatedAt: '1970-01-01T00:00:01.000000Z' });
    expect(before.cacheEnabled).toBeNull();
  });

  it('seeds all or nothing', () => {
    const store = newStore();
    store.seed(
      1000,
      (i) => `Co ${i}`,
      (i) => (i % 2 ? 'inactive' : 'active'),
    );
    expect(store.counts()).toEqual({ active: 501, inactive: 500, total: 1001 });
    expect(code(() => store.seed(10, (i) => (i === 7 ? 'Co 3' : `New ${i}`)))).toBe('name_taken');
    expect(
      code(() =>
        store.seed(
          10,
          (i) => `Other ${i}`,
          () => 'paused' as 'active',
        ),
      ),
    ).toBe('invalid');
    expect(store.count()).toBe(1001);
    expect(store.findByName('New 1')).toBeUndefined();
    expect(store.page(1000, 5).items.map((w) => w.name)).toEqual(['Co 999']);
    store.create('New 1');
    expect(store.page(1001, 5).items.map((w) => w.name)).toEqual(['New 1']);
  });

  it('pages deep into 200,000 workspaces with many tombstones, matching a plain model', () => {
    const store = newStore();
    store.seed(
      200_000,
      (i) => `Tenant ${i}`,
      (i) => (i % 7 ? 'active' : 'inactive'),
    );
    for (let i = 0; i < 200_000; i += 3) store.delete(store.findByName(`Tenant ${i}`)!.id);
    const live = store.list();
    const started = performance.now();
    for (const offset of [0, 50_000, 133_000, live.length - 50]) {
      const page = store.page(offset, 100);
      expect(page.items).toEqual(live.slice(offset, offset + 100));
      expect(page.hasMore).toBe(offset + 100 < live.length);
    }
    const inactive = live.filter((w) => w.status === 'inactive');
    expect(store.page(20_000, 100, { status: 'inactive' }).items).toEqual(
      inactive.slice(20_000, 20_100),
    );
    // Ten deep pages without a filter: far below what a scan of 200,000 slots per page costs.
    expect(performance.now() - started).toBeLessThan(2 * SECOND);
  });

  it('pages like a filter over the live list, under random changes', () => {
    type Op =
      | { kind: 'create'; name: number; inactive: boolean }
      | { kind: 'rename' | 'delete' | 'toggle'; pick: number; name: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), name: fc.nat(60), inactive: fc.boolean() }),
      fc.record({
        kind: fc.constantFrom('rename' as const, 'delete' as const, 'toggle' as const),
        pick: fc.nat(),
        name: fc.nat(60),
      }),
    );
    const filterArb: fc.Arbitrary<ListFilter> = fc.record(
      {
        status: fc.constantFrom('active' as const, 'inactive' as const),
        nameContains: fc.constantFrom('n', 'N1', 'ame 2', 'zz'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 120 }),
        filterArb,
        fc.integer({ min: 1, max: 7 }),
        (ops, filter, limit) => {
          const store = newStore();
          for (const o of ops) {
            const live = store.list();
            if (o.kind !== 'create' && live.length === 0) continue;
            const target = live[o.kind === 'create' ? 0 : o.pick % live.length] as SimWorkspace;
            const name = `Name ${o.name}`;
            if (o.kind === 'create')
              code(() => store.create(name, o.inactive ? 'inactive' : 'active'));
            else if (o.kind === 'rename') code(() => store.rename(target.id, name));
            else if (o.kind === 'delete') store.delete(target.id);
            else store.setStatus(target.id, target.status === 'active' ? 'inactive' : 'active');
          }
          const names = store.list().map((w) => w.name);
          expect(new Set(names).size).toBe(names.length);
          const expected = store
            .list()
            .filter((w) => !filter.status || w.status === filter.status)
            .filter(
              (w) =>
                !filter.nameContains ||
                w.name.toLowerCase().includes(filter.nameContains.toLowerCase()),
            );
          const seen: SimWorkspace[] = [];
          for (let offset = 0; ; offset += limit) {
            const page = store.page(offset, limit, filter);
            seen.push(...page.items);
            if (!page.hasMore) break;
            expect(page.items).toHaveLength(limit);
          }
          expect(seen).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('workspace store records and restore (the demo across restarts)', () => {
  it('gives back the same workspaces, tombstones, times and names taken', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0, 123));
    const store = newStore(clock);
    const a = store.create('Acme');
    clock.advance(SECOND);
    const b = store.create('Globex', 'inactive');
    store.update(b.id, { cacheEnabled: true });
    const gone = store.create('Initech');
    store.delete(gone.id);
    store.create('Initech');
    store.markForeign(a.id, '00000000-0000-4000-8000-000000000000');
    const saved = JSON.parse(JSON.stringify(store.records())) as SimWorkspace[];

    const again = newStore();
    again.restore(saved);
    expect(again.records()).toEqual(store.records());
    expect(again.list()).toEqual(store.list());
    expect(again.getIncludingDeleted(gone.id)?.tombstone).toBe(true);
    expect(again.counts()).toEqual(store.counts());
    expect(code(() => again.create('Globex'))).toBe('name_taken');
    expect(again.page(0, 10, { nameContains: 'INI' }).items.map((w) => w.name)).toEqual([
      'Initech',
    ]);
  });

  it('is all or nothing: bad records leave the store as it was', () => {
    const store = newStore();
    store.create('Acme');
    const before = store.records();
    const twice = [...before, { ...before[1]!, id: 'x' }] as SimWorkspace[];
    expect(code(() => store.restore(twice))).toBe('name_taken');
    expect(store.records()).toEqual(before);
    expect(code(() => store.restore([{ ...before[0]!, status: 'gone' } as never]))).toBe('invalid');
    expect(store.records()).toEqual(before);
  });
});
