/**
 * The sync: brings one customer's workspace (or one orphan) to its desired state, now.
 *
 * Level-triggered (DESIGN.md §2): it names a subject, not an action. It re-reads the customer row
 * and the workspace by id, decides with the planner's one decision, acts, and records. A stale or
 * repeated job therefore does the right thing or nothing.
 */
import type pg from 'pg';

import type { AgentEngine, Workspace } from '../agent-engine/types.js';
import { workspaceName } from '../core/names.js';
import {
  type CustomerFacts,
  type Decision,
  decideCustomer,
  decideOrphan,
  type Policy,
} from '../core/planner.js';
import type { Change, Customer, Link, Trigger, WorkspaceState } from '../core/types.js';
import type { Clock } from '../lib/clock.js';
import { PermanentError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { finishAudit, startAudit } from '../sql/audit.js';
import { firstClaimantOf, linkedCustomerOf, readSubject } from '../sql/customers.js';
import { clearDeletedSeen, markDeletedSeen, removeLink } from '../sql/links.js';
import { perform } from './changes.js';
import { type DestructiveLimits, voidStaleHolds } from './destructive.js';
import { ORPHAN_PREFIX } from './queues.js';

export interface SyncDeps {
  readonly pool: pg.Pool;
  readonly engine: AgentEngine;
  readonly policy: Policy;
  readonly limits: DestructiveLimits;
  readonly clock: Clock;
  /** Asks for another look at a customer at a later time (a deleted customer's due delete). */
  readonly recheckAt: (customerId: string, at: number) => Promise<void>;
}

export interface SyncRun {
  readonly subject: string;
  readonly trigger: Trigger;
  /** The sweep that asked, for the audit. */
  readonly sweepId?: string;
  readonly jobId: string | null;
  readonly attempt: number;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** What a sync did: the changes carried out, and those held for approval. */
export interface SyncResult {
  readonly done: readonly Change['action'][];
  readonly held: readonly Change['action'][];
}

export async function syncSubject(deps: SyncDeps, run: SyncRun): Promise<SyncResult> {
  return run.subject.startsWith(ORPHAN_PREFIX)
    ? syncOrphan(deps, run, run.subject.slice(ORPHAN_PREFIX.length))
    : syncCustomer(deps, run);
}

const stateOf = (ws: Workspace): WorkspaceState => ({
  id: ws.id,
  name: ws.name,
  status: ws.status,
});

/** What a sync would see and decide for one customer now (also `explain`'s answer). */
export interface Inspection {
  readonly customer: Customer;
  readonly link: Link | null;
  /** The workspace as the API shows it now (undefined: no link, or the API says 404). */
  readonly workspace: Workspace | undefined;
  readonly facts: CustomerFacts;
  readonly decision: Decision;
  /** Held or approved changes wait for this customer. */
  readonly openHolds: boolean;
}

/**
 * Reads the customer, its link and its workspace (GET by id), and decides. With `record`, first
 * notes a deleted customer's due time (or clears it when it came back), as a sync does.
 */
export async function inspectCustomer(
  deps: Pick<SyncDeps, 'pool' | 'engine' | 'policy' | 'clock'>,
  customerId: string,
  options: { record: boolean; signal?: AbortSignal },
): Promise<Inspection | null> {
  const { pool, engine, policy, clock } = deps;
  const row = await readSubject(pool, customerId);
  if (!row) return null;
  const { customer, openHolds } = row;
  let { link } = row;
  const now = clock.now();
  if (link && customer.status === 'deleted' && link.deleteDueAt === null && options.record) {
    const due = await markDeletedSeen(pool, customer.id, new Date(now), policy.deleteGraceMs);
    link = { ...link, deletedSeenAt: now, deleteDueAt: due?.getTime() ?? now };
  } else if (
    link &&
    customer.status !== 'deleted' &&
    link.deletedSeenAt !== null &&
    options.record
  ) {
    await clearDeletedSeen(pool, customer.id);
    link = { ...link, deletedSeenAt: null, deleteDueAt: null };
  }
  const workspace = link ? await engine.getWorkspace(link.workspaceId, options.signal) : undefined;
  const linked = link ? (workspace ? stateOf(workspace) : 'missing') : null;
  const desired = workspaceName(policy.nameTemplate, customer);
  const needsName =
    customer.status !== 'deleted' &&
    (linked === null || linked === 'missing' || linked.name !== desired);
  const nameOwner = needsName
    ? ((await firstClaimantOf(pool, policy.nameTemplate, desired)) ?? customer.id)
    : customer.id;
  // `named` stays unknown here: get-or-create by name finds the workspace, and the unique link
  // refuses one that belongs to someone else.
  const facts: CustomerFacts = { customer, link, linked, named: null, nameOwner };
  const decision = decideCustomer(facts, policy, now);
  return { customer, link, workspace, facts, decision, openHolds };
}

async function syncCustomer(deps: SyncDeps, run: SyncRun): Promise<SyncResult> {
  const { pool, clock } = deps;
  const seen = await inspectCustomer(deps, run.subject, {
    record: true,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  // No row: its link went with it (cascade) and its workspace is now an orphan.
  if (!seen) return { done: [], held: [] };
  const { customer, link, decision } = seen;
  const linked = seen.workspace ? stateOf(seen.workspace) : seen.facts.linked;
  const now = clock.now();

  if (seen.openHolds) {
    await voidStaleHolds(
      pool,
      { customerId: customer.id, workspaceId: null },
      decision.changes.map((c) => c.action),
      new Date(now),
    );
  }
  if (decision.conflict) {
    await auditFailure(deps, run, customer.id, link?.workspaceId ?? null, decision.conflict.reason);
    throw new PermanentError(decision.conflict.reason);
  }
  if (linked === 'missing' && customer.status === 'deleted' && link) {
    await removeLink(pool, customer.id);
  }

  const result: { done: Change['action'][]; held: Change['action'][] } = { done: [], held: [] };
  let workspaceId = seen.workspace?.id ?? null;
  for (const change of decision.changes) {
    const outcome = await perform(deps, run, customer, {
      ...change,
      workspaceId: change.workspaceId ?? workspaceId,
    });
    if (outcome.workspaceId) workspaceId = outcome.workspaceId;
    (outcome.held ? result.held : result.done).push(change.action);
  }
  const dueAt = link?.deleteDueAt;
  if (customer.status === 'deleted' && dueAt && dueAt > now && seen.workspace) {
    await deps.recheckAt(customer.id, dueAt);
  }
  return result;
}

async function syncOrphan(deps: SyncDeps, run: SyncRun, workspaceId: string): Promise<SyncResult> {
  const ws = await deps.engine.getWorkspace(workspaceId, run.signal);
  if (!ws || (await linkedCustomerOf(deps.pool, workspaceId))) return { done: [], held: [] };
  const change = decideOrphan(stateOf(ws), deps.policy);
  await voidStaleHolds(
    deps.pool,
    { customerId: null, workspaceId },
    change ? [change.action] : [],
    new Date(deps.clock.now()),
  );
  if (!change) return { done: [], held: [] };
  const outcome = await perform(deps, run, null, change);
  return outcome.held ? { done: [], held: [change.action] } : { done: [change.action], held: [] };
}

async function auditFailure(
  deps: SyncDeps,
  run: SyncRun,
  customerId: string,
  workspaceId: string | null,
  message: string,
): Promise<void> {
  const id = await startAudit(deps.pool, {
    at: new Date(deps.clock.now()),
    trigger: run.trigger,
    sweepId: run.sweepId ?? null,
    jobId: run.jobId,
    customerId,
    workspaceId,
    action: 'create',
    before: null,
    after: null,
    attempts: run.attempt,
    destructive: false,
  });
  await finishAudit(deps.pool, id, 'failed', message);
}
