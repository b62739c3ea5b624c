/**
 * "In step" is one rule (src/core/inStep.ts) with two forms: `inStep` for the planner and
 * `inStepSql`, with which the sweep leaves customers out in Postgres. Over every combination of
 * template, name (NULL, empty, blank, the default's), status and workspace, Postgres and
 * TypeScript agree; the planner decides nothing for a customer in step, and something (a change
 * or a conflict) for every linked customer that is not in step and not deleted: so the SQL never
 * leaves out a customer the planner would act on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inStep, inStepSql } from '../../src/core/inStep.js';
import { nameSql, workspaceName } from '../../src/core/names.js';
import { type CustomerFacts, decideCustomer, type Policy } from '../../src/core/planner.js';
import type { CustomerStatus, WorkspaceStatus } from '../../src/core/types.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

interface Case {
  readonly name: string | null;
  readonly status: CustomerStatus;
  readonly wsName: string;
  readonly wsStatus: WorkspaceStatus;
}

const TEMPLATES = ['{name}', 'ws-{name}', '{id}', 'Acme {name} ({id})'];
const NAMES = ['Acme', '', null, '  ', 'default', 'Default'];
const STATUSES: CustomerStatus[] = ['active', 'inactive', 'deleted'];
const WS_STATUSES: WorkspaceStatus[] = ['active', 'inactive'];

function casesFor(template: string): Case[] {
  return NAMES.flatMap((name) => {
    const desired = workspaceName(template, { id: 'c1', name: name ?? '' });
    const wsNames = [...new Set([desired, 'Acme', 'acme', 'ws-', 'default', ''])];
    return STATUSES.flatMap((status) =>
      wsNames.flatMap((wsName) =>
        WS_STATUSES.map((wsStatus) => ({ name, status, wsName, wsStatus })),
      ),
    );
  });
}

const tsInStep = (template: string, c: Case) =>
  inStep(
    { name: c.name ?? '', status: c.status },
    { name: c.wsName, status: c.wsStatus },
    workspaceName(template, { id: 'c1', name: c.name ?? '' }),
    template,
  );

function decide(template: string, c: Case) {
  const policy: Policy = {
    nameTemplate: template,
    deleteGraceMs: 60_000,
    maxDestructivePerSweep: 10,
    maxDestructiveShare: 0.1,
    orphans: 'report',
  };
  const desired = workspaceName(template, { id: 'c1', name: c.name ?? '' });
  const ws = { id: '00000000-0000-4000-8000-000000000001', name: c.wsName, status: c.wsStatus };
  const facts: CustomerFacts = {
    customer: { id: 'c1', name: c.name ?? '', status: c.status, createdAt: null },
    link: {
      customerId: 'c1',
      workspaceId: ws.id,
      workspaceName: c.wsName,
      deletedSeenAt: null,
      deleteDueAt: null,
    },
    linked: ws,
    named: c.wsName === desired ? { workspace: ws, linkedTo: 'c1' } : null,
    nameOwner: 'c1',
  };
  return decideCustomer(facts, policy, 0);
}

describe('the in-step rule', () => {
  it.each(TEMPLATES)('reads the same in TypeScript and in SQL (template %s)', async (template) => {
    const cases = casesFor(template);
    const desired = nameSql(template, 't', 1);
    const n = desired.params.length;
    const { rows } = await db.pool.query<{ i: string; in_step: boolean }>(
      `select t.i, ${inStepSql(template, {
        name: 't.name',
        status: 't.status',
        workspaceName: 't.ws_name',
        workspaceStatus: 't.ws_status',
        desired: desired.sql,
      })} as in_step
         from unnest($${n + 1}::text[], $${n + 2}::text[], $${n + 3}::text[], $${n + 4}::text[],
                     $${n + 5}::text[])
              with ordinality as t(id, name, status, ws_name, ws_status, i)`,
      [
        ...desired.params,
        cases.map(() => 'c1'),
        cases.map((c) => c.name),
        cases.map((c) => c.status),
        cases.map((c) => c.wsName),
        cases.map((c) => c.wsStatus),
      ],
    );
    const sql = rows.sort((a, b) => Number(a.i) - Number(b.i)).map((r) => r.in_step);
    expect(sql).toEqual(cases.map((c) => tsInStep(template, c)));
    // Not vacuous: some customers are in step and most are not.
    expect(sql.filter(Boolean).length).toBeGreaterThan(0);
    expect(sql.filter((x) => !x).length).toBeGreaterThan(sql.filter(Boolean).length);
  });

  it.each(TEMPLATES)(
    'the planner decides nothing in step, and something for a linked customer out of step (template %s)',
    (template) => {
      for (const c of casesFor(template)) {
        const decision = decide(template, c);
        const acts = decision.changes.length > 0 || decision.conflict !== null;
        if (tsInStep(template, c)) expect(acts, JSON.stringify(c)).toBe(false);
        else if (c.status !== 'deleted') expect(acts, JSON.stringify(c)).toBe(true);
      }
    },
  );
});
