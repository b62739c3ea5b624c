/**
 * The sync: brings one customer's workspace (or one orphan) to its desired state, now.
 *
 * Level-triggered (DESIGN.md §2): it names a subject, not an action. It re-reads the customer row
 * and the workspace by id, decides with the planner's one decision, acts, and records. A stale or
 * repeated job therefore does the right thing or nothing. Time is the database's: due times and
 * windows are measured on the one clock every daemon shares.
 */
import type { Workspace } from '../agent-engine/types.js';
import { workspaceName } from '../core/names.js';
import {
  type CustomerFacts,
  type Decision,
  decideCustomer,
  decideOrphan,
  statusChange,
} from '../core/planner.js';
import type { Change, Customer, Link, WorkspaceState } from '../core/types.js';
import { PermanentError } from '../lib/errors.js';
import { finishAudit, startAudit } from '../sql/audit.js';
import { firstClaimantOf, linkedCustomerOf, readSubject } from '../sql/customers.js';
import { voidStaleHolds } from '../sql/holds.js';
import { clearDeletedSeen, markDeletedSeen } from '../sql/links.js';
import { plannedFreshCreate } from '../sql/sweeps.js';
import { type Outcome, perform } from './changes.js';
import { ORPHAN_PREFIX } from './queues.js';
import { auditEntry, type SyncDeps, type SyncRun } from './syncTypes.js';

export type { SyncDeps, SyncRun } from './syncTypes.js';

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
  /** The workspace as the API shows it now (undefined: no link, or the API says it is gone). */
  readonly workspace: Workspace | undefined;
  readonly facts: CustomerFacts;
  readonly decision: Decision;
  /** Held or approved changes wait for this customer. */
  readonly openHolds: boolean;
  /** The database's time of the reading (ms). */
  readonly now: number;
}

/**
 * Reads the customer, its link and its workspace (GET by id), and decides. With `record`, first
 * notes a deleted customer's due time (or clears it when it came back), as a sync does.
 */
export async function inspectCustomer(
  deps: Pick<SyncDeps, 'pool' | 'engine' | 'policy'>,
  customerId: string,
  options: { record: boolean; signal?: AbortSignal },
): Promise<Inspection | null> {
  const { pool, engine, policy } = deps;
  const row = await readSubject(pool, customerId);
  if (!row) return null;
  const { customer, openHolds, now } = row;
  let { link } = row;
  if (link && customer.status === 'deleted' && link.deleteDueAt === null && options.record) {
    const seen = await markDeletedSeen(pool, customer.id, policy.deleteGraceMs);
    link = {
      ...link,
      deletedSeenAt: seen?.seenAt.getTime() ?? now,
      deleteDueAt: seen?.dueAt.getTime() ?? now,
    };
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
  return { customer, link, workspace, facts, decision, openHolds, now };
}

async function syncCustomer(deps: SyncDeps, run: SyncRun): Promise<SyncResult> {
  const seen = await inspectCustomer(deps, run.subject, {
    record: true,
    ...(run.signal ? { signal: run.signal } : {}),
  });
  // No row: its link went with it (cascade) and its workspace is now an orphan.
  if (!seen) return { done: [], held: [] };
  const { customer, link, decision, now } = seen;
  if (seen.openHolds) {
    const needed: string[] = decision.changes.map((c) => c.action);
    // A workspace about to be found by name may need deactivating: its hold stays.
    const finds = needed.includes('create') || needed.includes('adopt');
    if (finds && customer.status === 'inactive') needed.push('deactivate');
    await voidStaleHolds(deps.pool, { customerId: customer.id, workspaceId: null }, needed);
  }
  if (decision.conflict) {
    await auditFailure(deps, run, customer.id, link?.workspaceId ?? null, decision.conflict.reason);
  }
  const result = { done: [] as Change['action'][], held: [] as Change['action'][] };
  const note = (change: Change, outcome: Outcome) =>
    (outcome.held ? result.held : result.done).push(change.action);
  // One blocked change does not block the others: a permanent failure (a rename refused by a
  // name clash) is raised after the rest are done; a retryable one retries them all.
  let blocked: Error | null = decision.conflict
    ? new PermanentError(decision.conflict.reason)
    : null;
  let workspaceId = seen.workspace?.id ?? null;
  for (const planned of decision.changes) {
    const change = { ...planned, workspaceId: planned.workspaceId ?? workspaceId };
    let outcome: Outcome;
    try {
      outcome = await perform(deps, run, customer, change);
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      blocked ??= error;
      continue;
    }
    note(change, outcome);
    if (outcome.workspaceId) workspaceId = outcome.workspaceId;
    const follow = outcome.found ? statusChange(customer, outcome.found) : null;
    if (follow)
      note(follow, await perform(deps, run, customer, follow, await gated(deps, run, follow)));
  }
  if (blocked) throw blocked;
  const dueAt = link?.deleteDueAt;
  if (customer.status === 'deleted' && dueAt && dueAt > now && seen.workspace) {
    await deps.recheckAt(customer.id, dueAt, now);
  }
  return result;
}

/**
 * Whether the status change after a create goes through the destructive gate. It does, unless the
 * sweep that asked planned a create from a complete listing that had no workspace of that name:
 * then the workspace is the one just minted, and setting its status destroys nothing.
 */
async function gated(deps: SyncDeps, run: SyncRun, change: Change): Promise<boolean> {
  if (change.action !== 'deactivate') return false;
  if (run.trigger !== 'sweep' || !run.sweepId || !change.customerId) return true;
  return !(await plannedFreshCreate(deps.pool, run.sweepId, change.customerId));
}

async function syncOrphan(deps: SyncDeps, run: SyncRun, workspaceId: string): Promise<SyncResult> {
  const ws = await deps.engine.getWorkspace(workspaceId, run.signal);
  if (!ws || (await linkedCustomerOf(deps.pool, workspaceId))) return { done: [], held: [] };
  const change = decideOrphan(stateOf(ws), deps.policy);
  await voidStaleHolds(deps.pool, { customerId: null, workspaceId }, change ? [change.action] : []);
  if (!change) return { done: [], held: [] };
  // The change re-checks the link under the workspace's lock right before its call.
  const outcome = await perform(deps, run, null, change);
  if (outcome.held) return { done: [], held: [change.action] };
  return outcome.skipped ? { done: [], held: [] } : { done: [change.action], held: [] };
}

async function auditFailure(
  deps: SyncDeps,
  run: SyncRun,
  customerId: string,
  workspaceId: string | null,
  message: string,
): Promise<void> {
  const id = await startAudit(
    deps.pool,
    auditEntry(run, customerId, { action: 'create', workspaceId, from: null, to: null }, false),
  );
  await finishAudit(deps.pool, id, 'failed', message);
}
