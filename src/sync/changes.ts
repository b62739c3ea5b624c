/**
 * Carrying out one change: the audit row (through the destructive gate for the changes that
 * need it), the Agent Engine call, the link update, the audit outcome. This is where a workspace
 * is created, adopted, renamed, activated, deactivated and deleted.
 */
import { setTimeout as wait } from 'node:timers/promises';

import type { Workspace } from '../agent-engine/types.js';
import { isDestructive } from '../core/destructive.js';
import { wantedRegion } from '../core/region.js';
import {
  type Change,
  type Customer,
  isDefaultName,
  MISSING,
  type WorkspaceState,
} from '../core/types.js';
import { classify, PermanentError, SupersededError, toError } from '../lib/errors.js';
import { finishAudit, startAudit } from '../sql/audit.js';
import { completeHold } from '../sql/holds.js';
import { linkedCustomerOf } from '../sql/customers.js';
import {
  forgetMint,
  rememberMint,
  removeLink,
  setLinkedState,
  storeLink,
  withWorkspaceLock,
} from '../sql/links.js';
import { admitDestructive } from './gate.js';
import { auditEntry, type ClaimedRun, mutation, type SyncDeps } from './syncTypes.js';

export interface Outcome {
  readonly held: boolean;
  readonly workspaceId: string | null;
  /** After a create or adopt: the workspace found under the name. */
  readonly found?: WorkspaceState;
  /** The API call was not made: an orphan got linked meanwhile. */
  readonly skipped?: boolean;
  /** The API answered that the workspace is gone (404 or tombstone): decide again. */
  readonly gone?: boolean;
}

type CallResult = Omit<Outcome, 'held'>;

export interface PerformOptions {
  /** Through the destructive gate; default the planner's {@link isDestructive}. */
  readonly gated?: boolean;
  /**
   * After a create or adopt, the found workspace's status when a sweep's listing already told
   * it (then no GET is spent on it).
   */
  readonly knownStatus?: WorkspaceState['status'];
  /**
   * A create or adopt whose workspace the sweep's listing showed under the name: the mint finds
   * it, so the region it lives in is not known (the link's region stays null).
   */
  readonly listed?: boolean;
}

/** Carries out one change: audit row (through the gate if needed), API call, link, outcome. */
export async function perform(
  deps: SyncDeps,
  run: ClaimedRun,
  customer: Customer | null,
  change: Change,
  options: PerformOptions = {},
): Promise<Outcome> {
  const { pool } = deps;
  const gated = options.gated ?? isDestructive(change);
  const entry = auditEntry(run, customer?.id ?? null, change, gated);
  // A create or adopt mints by name: the name is remembered until the link is stored (lostMint).
  const minting =
    customer && (change.action === 'create' || change.action === 'adopt') && change.to
      ? change.to
      : undefined;
  let approvedHold: number | null = null;
  let auditId: number;
  if (gated) {
    const admission = await admitDestructive(
      pool,
      { limit: deps.policy, windowMs: deps.destructiveWindowMs },
      entry,
      deps.source,
    );
    if (!admission.admitted) {
      const { holdId, sweepId, reason } = admission;
      run.logger.warn(
        { action: change.action, holdId, sweepId, ...(reason ? { reason } : {}) },
        reason === 'source-empty' || reason === 'source-shrank'
          ? `destructive change held for approval: the customers source looks out (${reason}), not emptied on purpose`
          : 'destructive change held for approval',
      );
      return { held: true, workspaceId: change.workspaceId };
    }
    auditId = admission.auditId;
    approvedHold = admission.approvedHold;
    if (minting !== undefined && customer) await rememberMint(pool, customer.id, minting);
  } else {
    auditId = await startAudit(pool, entry, minting);
  }
  try {
    const result = await sendChange(deps, run, customer, change, options);
    await finishAudit(
      pool,
      auditId,
      result.skipped || result.gone ? 'skipped' : 'ok',
      result.skipped
        ? 'the workspace was linked to a customer meanwhile: left alone'
        : result.gone
          ? 'the workspace is gone (404 or tombstone)'
          : null,
      result.workspaceId,
    );
    if (approvedHold !== null) await completeHold(pool, approvedHold);
    run.logger.info(
      { action: change.action, workspaceId: result.workspaceId, from: change.from, to: change.to },
      result.skipped ? 'change skipped' : 'change applied',
    );
    return { held: false, ...result };
  } catch (error) {
    // A newer sync took the subject over before the call went out: not done, and not failed.
    const notSent = error instanceof SupersededError && !error.afterCall;
    await finishAudit(
      pool,
      auditId,
      notSent ? 'skipped' : 'failed',
      notSent ? `not carried out: ${error.message}` : toError(error).message,
    ).catch(() => {});
    throw error;
  }
}

/** The API call of one change (a create: mint + info, and a GET only for an unknown status). */
async function sendChange(
  deps: SyncDeps,
  run: ClaimedRun,
  customer: Customer | null,
  change: Change,
  options: PerformOptions,
): Promise<CallResult> {
  const { engine } = deps;
  const id = change.workspaceId;
  switch (change.action) {
    case 'create':
    case 'adopt':
      return mintAndLink(deps, run, customer, change, options);
    case 'rename':
      return renameWorkspace(deps, run, customer, change);
    case 'activate':
    case 'deactivate': {
      if (!id) throw new PermanentError(`${change.action} needs a workspace`);
      const status = change.action === 'activate' ? 'active' : 'inactive';
      const mutating = mutation(deps, run);
      if (!customer)
        return orphanCall(deps, id, () => engine.updateWorkspace(id, { status }, mutating));
      return recordAnswer(
        deps,
        customer,
        id,
        await engine.updateWorkspace(id, { status }, mutating),
      );
    }
    case 'delete':
      return deleteWorkspace(deps, run, customer, change);
  }
}

/** A create or adopt: gets or creates the workspace by name, links it, and reads its status. */
async function mintAndLink(
  deps: SyncDeps,
  run: ClaimedRun,
  customer: Customer | null,
  change: Change,
  { knownStatus, listed }: PerformOptions,
): Promise<CallResult> {
  const { pool, engine } = deps;
  if (!customer || !change.to)
    throw new PermanentError(`${change.action} needs a customer and a name`);
  // Get-or-create by name. The name was remembered with the audit row and the id is stored
  // at once, its read retried with the scoped token (client.ts) and its link write through a
  // Postgres outage (keepingTheId): minting the name again after a remote rename would make a
  // second workspace. A crash in between is harmless unless that rename happens too: the same
  // name gives the same workspace next time, and a customer renamed or deleted meanwhile finds
  // it first (linkLostMint).
  // The region matters only if the mint creates (docs/agent-engine-api.md); a row naming none
  // is refused before this by the sync (syncSubject.ts), and here again.
  const region = wantedRegion(customer, deps.defaultRegion);
  if (!region.ok) throw new PermanentError(region.reason);
  const ws = await engine.createWorkspace(change.to, {
    ...mutation(deps, run),
    regionId: region.regionId,
  });
  if (isDefaultName(ws.name)) {
    throw new PermanentError(
      `workspace ${ws.id} is named "${ws.name}", like the organization's default workspace: not linked`,
    );
  }
  try {
    const name = change.to;
    // A create made it in that region (as far as anyone can tell: the mint does not say
    // whether it created); a workspace listed or adopted by name lives where it was made.
    const regionId = change.action === 'create' && !listed ? region.regionId : null;
    await keepingTheId(
      () => storeLink(pool, run.claim, customer.id, ws.id, name, knownStatus ?? null, regionId),
      run.signal,
    );
  } catch (error) {
    // Minted, but a newer sync has the customer now: it finds this workspace by the same
    // name if it still wants one (the mint stays remembered).
    if (!(error instanceof SupersededError)) throw error;
    throw new SupersededError(`workspace ${ws.id} minted but not linked: ${error.message}`, {
      afterCall: true,
      cause: error,
    });
  }
  // Its status may need changing: the caller does that as a change of its own, through the
  // gate (an existing workspace found by name is adopted, not exempted).
  if (knownStatus) return { workspaceId: ws.id, found: { ...ws, status: knownStatus } };
  const current = await engine.getWorkspace(ws.id, run.signal);
  if (!current) {
    await setLinkedState(pool, customer.id, ws.id, { status: MISSING });
    return { workspaceId: ws.id, gone: true };
  }
  await setLinkedState(pool, customer.id, ws.id, current);
  return { workspaceId: ws.id, found: current };
}

/** A rename of a linked workspace; a name the API refuses is a permanent error naming the rename. */
async function renameWorkspace(
  deps: SyncDeps,
  run: ClaimedRun,
  customer: Customer | null,
  change: Change,
): Promise<CallResult> {
  const { engine } = deps;
  const id = change.workspaceId;
  if (!id || !customer || !change.to) throw new PermanentError('rename needs a linked workspace');
  let answer;
  try {
    answer = await engine.updateWorkspace(id, { name: change.to }, mutation(deps, run));
  } catch (error) {
    // Which answers are permanent (a name clash: 400, 409, 422) the classifier decided; this
    // only names the rename in the message.
    if (!(error instanceof PermanentError)) throw error;
    throw new PermanentError(`cannot rename workspace ${id} to "${change.to}": ${error.message}`, {
      ...(error.status !== undefined ? { status: error.status } : {}),
    });
  }
  return recordAnswer(deps, customer, id, answer);
}

/** A delete: of an orphan, or of a customer's workspace and then its link. */
async function deleteWorkspace(
  deps: SyncDeps,
  run: ClaimedRun,
  customer: Customer | null,
  change: Change,
): Promise<CallResult> {
  const { pool, engine } = deps;
  const id = change.workspaceId;
  if (!id) throw new PermanentError('delete needs a workspace');
  if (!customer) {
    return orphanCall(deps, id, () => engine.deleteWorkspace(id, mutation(deps, run)));
  }
  // Already gone (a 404 or a tombstone): only the link is left to drop.
  if (change.from === MISSING) {
    await removeLink(pool, run.claim, customer.id, id);
    return { workspaceId: id };
  }
  await engine.deleteWorkspace(id, mutation(deps, run));
  // Deleted; a newer sync that has the customer now finds it gone and drops the link itself.
  await removeLink(pool, run.claim, customer.id, id).catch((error: unknown) => {
    if (!(error instanceof SupersededError)) throw error;
  });
  return { workspaceId: id };
}

/** How long a minted workspace's id is held while its link cannot be written. */
const LINK_PATIENCE_MS = 30_000;

/**
 * Writes a just-minted workspace's link, trying again while Postgres is away (a restart, a
 * failover) for up to {@link LINK_PATIENCE_MS}: the id is known only here. Thrown away, it would
 * be learned again only by minting under the name, which makes a second workspace if the first
 * was renamed meanwhile (docs/agent-engine-api.md's rename trap).
 */
async function keepingTheId(write: () => Promise<void>, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + LINK_PATIENCE_MS;
  for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
    try {
      return await write();
    } catch (error) {
      if (classify(error).kind !== 'retryable' || Date.now() + pause > until) throw error;
      await wait(pause, undefined, signal ? { signal } : {});
    }
  }
}

/**
 * Links the workspace a mint for this unlinked customer made under `pending`, a name whose id
 * never came back (the answer was lost, or the daemon died), when the customer is no longer to be
 * minted under that name (renamed, or deleted, meanwhile): minting under the new name, or nothing
 * at all, would leave it behind, linked to nobody. It is looked for by listing under that name,
 * which creates nothing, and linked as it is when nobody has linked it since; the caller decides
 * again (a rename, or a deactivation through the gate, is then a change of its own). Returns
 * whether it linked one; a name not found is forgotten.
 */
export async function linkLostMint(
  deps: SyncDeps,
  run: ClaimedRun,
  customerId: string,
  pending: string,
): Promise<boolean> {
  const { pool, engine } = deps;
  let found: Workspace | undefined;
  if (!isDefaultName(pending)) {
    const listing = engine.listWorkspaces({
      nameContains: pending,
      ...(run.signal ? { signal: run.signal } : {}),
    });
    for await (const page of listing) {
      found = page.find((w) => w.name === pending);
      if (found) break;
    }
  }
  if (!found || (await linkedCustomerOf(pool, found.id))) {
    await forgetMint(pool, customerId);
    return false;
  }
  const change = { action: 'adopt', workspaceId: found.id, from: null, to: pending } as const;
  const auditId = await startAudit(pool, auditEntry(run, customerId, change, false));
  try {
    await storeLink(pool, run.claim, customerId, found.id, found.name, found.status);
  } catch (error) {
    await finishAudit(pool, auditId, 'failed', toError(error).message).catch(() => {});
    throw error;
  }
  await finishAudit(
    pool,
    auditId,
    'ok',
    `the workspace minted earlier as "${pending}", whose id was lost, is linked`,
    found.id,
  );
  run.logger.info({ workspaceId: found.id, name: pending }, 'linked the workspace of a lost mint');
  return true;
}

/** Records what a PUT answered as the link's last-known state; no answer: the workspace is gone. */
async function recordAnswer(
  deps: SyncDeps,
  customer: Customer,
  workspaceId: string,
  answer: WorkspaceState | undefined,
): Promise<CallResult> {
  await setLinkedState(deps.pool, customer.id, workspaceId, answer ?? { status: MISSING });
  return answer ? { workspaceId } : { workspaceId, gone: true };
}

/**
 * An orphan's API call, under the lock linking takes, after checking again that nobody linked the
 * workspace since the orphan was found.
 */
async function orphanCall(
  deps: SyncDeps,
  workspaceId: string,
  act: () => Promise<unknown>,
): Promise<CallResult> {
  return withWorkspaceLock(deps.pool, workspaceId, async (client) => {
    if (await linkedCustomerOf(client, workspaceId)) return { workspaceId, skipped: true };
    await act();
    return { workspaceId };
  });
}
