/**
 * The sync: brings one customer's workspace (or one orphan) to its desired state, now.
 *
 * Level-triggered (docs/design.md §2): names a subject, not an action. It re-reads the customer row
 * and the workspace by id, decides with the planner's one decision, acts, and records. A stale or
 * repeated job therefore does the right thing or nothing. Time is the database's: due times and
 * windows are measured on the one clock every daemon shares.
 */
import type { Workspace } from '../agent-engine/types.js';
import { isDestructive } from '../core/destructive.js';
import { workspaceName } from '../core/names.js';
import {
  type CustomerFacts,
  type Decision,
  decideCustomer,
  decideOrphan,
  statusChange,
} from '../core/planner.js';
import { wantedRegion } from '../core/region.js';
import type { Change, Customer, Link, WorkspaceState } from '../core/types.js';
import { subjectKey } from '../core/subject.js';
import { MISSING } from '../core/types.js';
import { PermanentError, SupersededError } from '../lib/errors.js';
import { finishAudit, startAudit } from '../sql/audit.js';
import { firstClaimantOf, linkedCustomerOf, readSubject } from '../sql/customers.js';
import { voidStaleHolds } from '../sql/holds.js';
import { clearDeletedSeen, markDeletedSeen, setLinkedState } from '../sql/links.js';
import { reportedOrphanNamed } from '../sql/orphans.js';
import { plannedFind } from '../sql/sweeps.js';
import { claimSubject } from '../sql/syncClaims.js';
import { linkLostMint, type Outcome, perform } from './changes.js';
import { auditEntry, type ClaimedRun, type SyncDeps, type SyncRun } from './syncTypes.js';

export type { SyncDeps, SyncRun } from './syncTypes.js';

/** What a sync did: the changes carried out, and those held for approval. */
export interface SyncResult {
  readonly done: readonly Change['action'][];
  readonly held: readonly Change['action'][];
  /**
   * A newer sync of the subject started while this one ran (this one's daemon stopped past its
   * job's lock, say): it stopped before its next change, and the newer one's outcome is the one
   * to record.
   */
  readonly superseded?: true;
}

/**
 * Claims the subject (every older sync of it still running is now stale, see syncClaims.ts), then
 * syncs it. A stale sync stops before its next change and says so in its result.
 */
export async function syncSubject(deps: SyncDeps, run: SyncRun): Promise<SyncResult> {
  const claimed: ClaimedRun = {
    ...run,
    claim: await claimSubject(deps.pool, subjectKey(run.subject)),
  };
  const result = { done: [] as Change['action'][], held: [] as Change['action'][] };
  try {
    if (run.subject.kind === 'orphan')
      await syncOrphan(deps, claimed, run.subject.workspaceId, result);
    else await syncCustomer(deps, claimed, run.subject.customerId, result);
    return result;
  } catch (error) {
    if (!(error instanceof SupersededError)) throw error;
    run.logger.warn({ reason: error.message }, 'a newer sync took over: this one stops unfinished');
    return { ...result, superseded: true };
  }
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
  /**
   * The linked workspace: as the API showed it just now (`live`, or when the link's last-known
   * state was unknown or `missing`), else as last known; undefined when there is no link or it is
   * gone.
   */
  readonly workspace: WorkspaceState | undefined;
  /** The workspace as the API answered, when this inspection read it. */
  readonly answered: Workspace | undefined;
  readonly facts: CustomerFacts;
  readonly decision: Decision;
  /** Held or approved changes wait for this customer. */
  readonly openHolds: boolean;
  /** The name of a mint whose workspace id never came back, if one is pending. */
  readonly pendingMint: string | null;
  /** The database's time of the reading (ms). */
  readonly now: number;
}

/**
 * Reads the customer and its link, and decides. The workspace is read by id (GET) only with
 * `live` (explain) or when the link's last-known state cannot say (unknown, or a listing did not
 * show it): a customer in step with its link costs no call. With `record`, it also notes a
 * deleted customer's due time (or clears it when it came back) and what the GET showed, as a sync
 * does.
 */
export async function inspectCustomer(
  deps: Pick<SyncDeps, 'pool' | 'source' | 'engine' | 'policy'>,
  customerId: string,
  options: {
    record: boolean;
    live?: boolean;
    /**
     * Read the workspace by id before deciding anything destructive from the link's last-known
     * state (every trigger but a sweep, whose listing has just refreshed that state).
     */
    confirmDestructive?: boolean;
    signal?: AbortSignal;
  },
): Promise<Inspection | null> {
  const { pool, engine, policy } = deps;
  const row = await readSubject(pool, deps.source, customerId);
  if (!row) return null;
  const { customer, openHolds, pendingMint } = row;
  let { link, now } = row;
  if (link && customer.status === 'deleted' && link.deleteDueAt === null && options.record) {
    const seen = await markDeletedSeen(pool, customer.id, policy.deleteGraceMs);
    // The decision is taken at the sighting's time, not the reading's a moment before it: with
    // DELETE_GRACE=0 the delete is due at once, not one millisecond on (a deactivation first).
    if (seen) now = Math.max(now, seen.seenAt.getTime());
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
  const known = link?.workspaceStatus;
  const lastKnown: WorkspaceState | undefined =
    link && known && known !== MISSING
      ? { id: link.workspaceId, name: link.workspaceName, status: known }
      : undefined;
  const decideWith = async (workspace: WorkspaceState | undefined) => {
    const linked = link ? (workspace ?? 'missing') : null;
    const desired = workspaceName(policy.nameTemplate, customer);
    const needsName =
      customer.status !== 'deleted' &&
      (linked === null || linked === 'missing' || linked.name !== desired);
    const nameOwner = needsName
      ? ((await firstClaimantOf(pool, deps.source, policy.nameTemplate, desired)) ?? customer.id)
      : customer.id;
    // A workspace get-or-create by name would find and link, known from the last listing's
    // orphan report without a call: only a person adopts it.
    const finds = customer.status !== 'deleted' && (linked === null || linked === 'missing');
    const reportedOrphan = finds ? await reportedOrphanNamed(pool, desired, customer.id) : null;
    // `named` stays unknown here: get-or-create by name finds the workspace, and the unique link
    // refuses one that belongs to someone else.
    const facts: CustomerFacts = {
      customer,
      link,
      linked,
      named: null,
      nameOwner,
      reportedOrphan,
    };
    return { facts, decision: decideCustomer(facts, policy, now) };
  };
  const readNow = async () => {
    const got = link ? await engine.getWorkspace(link.workspaceId, options.signal) : undefined;
    if (link && options.record) {
      await setLinkedState(
        pool,
        customer.id,
        link.workspaceId,
        got ? stateOf(got) : { status: MISSING },
      );
    }
    return got;
  };
  let answered: Workspace | undefined;
  let workspace = lastKnown;
  if (link && (options.live || !lastKnown)) {
    answered = await readNow();
    workspace = answered ? stateOf(answered) : undefined;
  }
  let { facts, decision } = await decideWith(workspace);
  if (
    options.confirmDestructive &&
    link &&
    answered === undefined &&
    workspace !== undefined &&
    decision.changes.some((c) => isDestructive(c))
  ) {
    answered = await readNow();
    workspace = answered ? stateOf(answered) : undefined;
    ({ facts, decision } = await decideWith(workspace));
  }
  return { customer, link, workspace, answered, facts, decision, openHolds, pendingMint, now };
}

type Tally = { done: Change['action'][]; held: Change['action'][] };

async function syncCustomer(
  deps: SyncDeps,
  run: ClaimedRun,
  customerId: string,
  result: Tally,
): Promise<void> {
  // A PUT that answers "gone" means the last-known state was wrong: decide once more, now that
  // the link says `missing` (and a GET confirms it).
  for (let round = 0; round < 2; round++) {
    if (!(await syncRound(deps, run, customerId, result))) break;
  }
}

/** One look at the customer, and its changes. Returns true when it should look again. */
async function syncRound(
  deps: SyncDeps,
  run: ClaimedRun,
  customerId: string,
  result: Tally,
): Promise<boolean> {
  const seen = await inspectCustomer(deps, customerId, {
    record: true,
    // Asked for by name: the workspace as the API shows it now, as `explain` reads it.
    live: run.readFirst === true,
    confirmDestructive: run.trigger !== 'sweep',
    ...(run.signal ? { signal: run.signal } : {}),
  });
  // Neither a row in the source nor a link: nothing to do (a vanished row with a link reads as
  // a deleted customer).
  if (!seen) return false;
  const { customer, link, decision, now } = seen;
  // A mint whose id was lost, under a name the customer no longer wants minted: link that
  // workspace first, and decide again.
  const minting = decision.changes.find(isFind)?.to;
  if (!link && seen.pendingMint !== null && seen.pendingMint !== minting) {
    if (await linkLostMint(deps, run, customer.id, seen.pendingMint)) return true;
  }
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
  // A row whose region names none: its sync fails visibly, and no workspace is minted for it.
  const region = wantedRegion(customer, deps.defaultRegion);
  if (!region.ok && decision.changes.some(isFind)) {
    await auditFailure(deps, run, customer.id, null, region.reason);
    throw new PermanentError(region.reason);
  }
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
      const find = isFind(change) ? await foundBySweep(deps, run, change) : null;
      outcome = await perform(
        deps,
        run,
        customer,
        change,
        find ? { knownStatus: find.status, listed: !find.fresh } : {},
      );
      if (outcome.gone) return true;
      note(change, outcome);
      if (outcome.workspaceId) workspaceId = outcome.workspaceId;
      const follow = outcome.found ? statusChange(customer, outcome.found) : null;
      if (follow) {
        const followed = await perform(deps, run, customer, follow, { gated: !find?.fresh });
        if (followed.gone) return true;
        note(follow, followed);
      }
    } catch (error) {
      if (!(error instanceof PermanentError)) throw error;
      blocked ??= error;
    }
  }
  if (blocked) throw blocked;
  const dueAt = link?.deleteDueAt;
  if (customer.status === 'deleted' && dueAt && dueAt > now && seen.workspace) {
    await deps.recheckAt(customer.id, dueAt, now);
  }
  return false;
}

const isFind = (change: Change) => change.action === 'create' || change.action === 'adopt';

/**
 * What the sweep that asked already knows of the workspace a create or adopt will find by name
 * (see {@link plannedFind}); null for other triggers, which read it once after the find.
 */
async function foundBySweep(
  deps: SyncDeps,
  run: SyncRun,
  change: Change,
): Promise<{ fresh: boolean; status: 'active' | 'inactive' } | null> {
  if (run.trigger !== 'sweep' || !run.sweepId || !change.customerId) return null;
  return plannedFind(deps.pool, run.sweepId, change.customerId);
}

async function syncOrphan(
  deps: SyncDeps,
  run: ClaimedRun,
  workspaceId: string,
  result: Tally,
): Promise<void> {
  const ws = await deps.engine.getWorkspace(workspaceId, run.signal);
  const subject = { customerId: null, workspaceId };
  // Gone, or linked to a customer since: no longer an orphan, and its holds are stale.
  if (!ws || (await linkedCustomerOf(deps.pool, workspaceId))) {
    await voidStaleHolds(deps.pool, subject, []);
    return;
  }
  const change = decideOrphan(stateOf(ws), deps.policy);
  await voidStaleHolds(deps.pool, subject, change ? [change.action] : []);
  if (!change) return;
  // The change re-checks the link under the workspace's lock right before its call.
  const outcome = await perform(deps, run, null, change);
  if (outcome.held) result.held.push(change.action);
  else if (!outcome.skipped) result.done.push(change.action);
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
