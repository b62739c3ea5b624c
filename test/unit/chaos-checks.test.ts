/**
 * The chaos run's judges on made-up histories: each must fail the history it exists to catch, so a
 * green chaos run means something.
 */
import { describe, expect, it } from 'vitest';

import { auditAccounts, type Db, identity, policy } from '../../chaos/checks.js';
import { LeakScanner } from '../../chaos/leaks.js';
import { Model } from '../../chaos/model.js';
import { ManualClock } from '../../src/lib/clock.js';
import { Journal, WorkspaceStore } from '../../simulator/index.js';

const WS = '11111111-1111-4111-8111-111111111111';

function db(partial: Partial<Db> = {}): Db {
  return {
    rows: new Map(),
    links: new Map(),
    sharedWorkspaces: 0,
    audit: [],
    holds: [],
    ...partial,
  };
}

const audit = (action: string, at: number, after: unknown = null, workspaceId = WS) => ({
  at,
  customerId: 'c1',
  workspaceId,
  action,
  after,
  trigger: 'webhook',
  outcome: 'ok',
});

describe('chaos model', () => {
  it('calls a name stale once its customer moved away from it, after the margin', () => {
    const model = new Model();
    model.seed('c1', { name: 'Old', status: 'active' });
    model.apply('c1', { name: 'New' }, 1_000, 1_100);
    expect(model.isStale('Old', 1_050, 0)).toBe(false);
    expect(model.isStale('Old', 5_000, 10_000)).toBe(false);
    expect(model.isStale('Old', 20_000, 10_000)).toBe(true);
    expect(model.isStale('New', 20_000, 0)).toBe(false);
    expect(model.isStale('Never anyone', 0, 10_000)).toBe(true);
  });
});

describe('chaos checks', () => {
  it('identity fails a mint under a stale name, a stray workspace and a shared one', () => {
    const model = new Model();
    model.seed('c1', { name: 'Old', status: 'active' });
    model.apply('c1', { name: 'New' }, 1_000, 1_000);
    const store = new WorkspaceStore('7d3c1b52-9e4f-4a8b-b6d0-2f5e8c9a1d34', new ManualClock(0));
    const linked = store.create('New');
    const stray = store.create('Old');
    const journal = new Journal();
    journal.mints.push({ at: 60_000, workspaceId: stray.id, name: 'Old', regionId: null });
    const rows = [
      { at: 500, customerId: 'c1', workspaceId: stray.id, action: 'create', after: 'Old' },
      { at: 1_500, customerId: 'c1', workspaceId: linked.id, action: 'create', after: 'New' },
    ].map((a) => ({ ...a, trigger: 'sweep', outcome: 'ok' }));
    const verdict = identity(
      model,
      db({ links: new Map([['c1', linked.id]]), sharedWorkspaces: 1, audit: rows }),
      store,
      journal,
      new Set(),
      10_000,
      new Map([[stray.id, 'c1']]),
      0,
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.figure).toContain('1 unlinked stray workspaces, 1 workspaces linked twice');
    expect(verdict.figure).toContain('1 under a stale name');
    // The stray's post-mortem: its id, whose it was, and the audit rows of it and its owner.
    expect(verdict.figure).toContain(
      `${stray.id}, minted +60.0s as "Old", owner c1: +0.5s sweep create it "Old" ok, +1.5s sweep create ${linked.id} "New" ok`,
    );
    // Never linked and named in no audit row: its owner is whoever had the name it was minted under.
    const unowned = identity(
      model,
      db({ links: new Map([['c1', linked.id]]), audit: rows.slice(1) }),
      store,
      journal,
      new Set(),
      10_000,
      new Map(),
      0,
    );
    expect(unowned.figure).toContain(
      `${stray.id}, minted +60.0s as "Old", owner c1: +1.5s sweep create ${linked.id} "New" ok`,
    );
    // The ids whose log lines the report quotes: the stray and its owner.
    expect(unowned.trace).toEqual([stray.id, 'c1']);
  });

  it('the audit must account for each change, by the right action, started before it', () => {
    const journal = new Journal();
    const from = { name: 'A', status: 'active' as const };
    journal.mutations.push({ kind: 'update', at: 100, workspaceId: WS, from, name: 'B' });
    journal.mutations.push({ kind: 'delete', at: 200, workspaceId: WS, from });
    expect(
      auditAccounts(db({ audit: [audit('rename', 90, 'B'), audit('delete', 150)] }), journal).ok,
    ).toBe(true);
    // A rename to another name, a delete audited after the fact, nothing at all: each fails.
    expect(
      auditAccounts(db({ audit: [audit('rename', 90, 'C'), audit('delete', 150)] }), journal).ok,
    ).toBe(false);
    expect(
      auditAccounts(db({ audit: [audit('rename', 90, 'B'), audit('delete', 250)] }), journal).ok,
    ).toBe(false);
    expect(auditAccounts(db(), journal).ok).toBe(false);
  });

  const policyInput = (journal: Journal, model: Model, partial: Partial<Db> = {}) => ({
    model,
    db: db(partial),
    journal,
    owners: new Map([[WS, 'c1']]),
    orphanIds: new Set<string>(),
    massIds: new Set<string>(),
    approvedAt: Infinity,
    graceMs: 10_000,
    threshold: 5,
    t0: 0,
  });

  it('policy fails a delete inside the grace, and a delete of a customer never deleted', () => {
    const journal = new Journal();
    journal.mutations.push({
      kind: 'delete',
      at: 15_000,
      workspaceId: WS,
      from: { name: 'A', status: 'inactive' },
    });
    const model = new Model();
    model.seed('c1', { name: 'A', status: 'active' });
    expect(policy(policyInput(journal, model)).ok).toBe(false);
    model.apply('c1', { status: 'deleted' }, 10_000, 10_000);
    expect(policy(policyInput(journal, model)).ok).toBe(false); // 5 s after, grace 10 s
    const early = new Model();
    early.seed('c1', { name: 'A', status: 'active' });
    early.apply('c1', { status: 'deleted' }, 1_000, 1_000);
    expect(policy(policyInput(journal, early)).ok).toBe(true);
  });

  it('policy fails a held deactivation carried out before approval, and a touched orphan', () => {
    const journal = new Journal();
    journal.mutations.push({
      kind: 'update',
      at: 9_000,
      workspaceId: WS,
      from: { name: 'A', status: 'active' },
      status: 'inactive',
    });
    const model = new Model();
    model.seed('c1', { name: 'A', status: 'inactive' });
    const hold = {
      sweepId: null,
      customerId: 'c1',
      workspaceId: WS,
      action: 'deactivate',
      createdAt: 5_000,
      state: 'held',
      decidedAt: null,
    };
    expect(policy(policyInput(journal, model, { holds: [hold] })).ok).toBe(false);
    // Admitted by the gate before the hold was written: allowed.
    expect(
      policy(policyInput(journal, model, { holds: [hold], audit: [audit('deactivate', 4_000)] }))
        .ok,
    ).toBe(true);
    expect(policy({ ...policyInput(journal, model), orphanIds: new Set([WS]) }).ok).toBe(false);
  });
});

describe('leak scanner', () => {
  it('finds a secret, a webhook key without its prefix, a token signature alone, a JWT shape', () => {
    const token = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHBsaWNhdGlvbiJ9.${'s'.repeat(40)}abc`;
    const scanner = new LeakScanner(['client-secret-1', 'whsec_a2V5LW1hdGVyaWFs']);
    scanner.setTokens([token]);
    scanner.logLine('a', '{"msg":"fine","token":"[redacted]"}');
    expect(scanner.found).toEqual([]);
    scanner.logLine('a', 'secret is client-secret-1');
    scanner.logLine('a', 'key a2V5LW1hdGVyaWFs');
    scanner.postgres(`x\t${'s'.repeat(40)}abc\ty`);
    scanner.logLine('b', 'eyJ0eXAiOiJKV1Qi.eyJzdWIiOiJvdGhlciJ9.c2lnbmF0dXJlc2lnbmF0dXJl');
    expect(scanner.found).toEqual([
      'a configured secret in log of a',
      'a configured secret in log of a',
      'an issued token in Postgres row',
      'a JWT-shaped string in log of b',
    ]);
  });
});
