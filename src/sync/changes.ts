/**
 * Carrying out one change: the audit row (through the destructive gate for the changes that
 * need it), the Agent Engine call, the link update, the audit outcome. This is where a workspace
 * is created, adopted, renamed, activated, deactivated and deleted.
 */
import { isDestructive } from '../core/planner.js';
import {
  type Change,
  type Customer,
  isDefaultName,
  MISSING,
  type WorkspaceState,
} from '../core/types.js';
import { PermanentError, toError } from '../lib/errors.js';
import { finishAudit, startAudit } from '../sql/audit.js';
import { completeHold } from '../sql/holds.js';
import { linkedCustomerOf } from '../sql/customers.js';
import { removeLink, setLinkedName, storeLink, withWorkspaceLock } from '../sql/links.js';
import { admitDestructive } from './destructive.js';
import { auditEntry, type SyncDeps, type SyncRun } from './syncTypes.js';

export interface Outcome {
  readonly held: boolean;
  readonly workspaceId: string | null;
  /** After a create or adopt: the workspace found under the name, as the API shows it now. */
  readonly found?: WorkspaceState;
  /** The API call was not made: an orphan got linked meanwhile. */
  readonly skipped?: boolean;
}

interface CallResult {
  readonly workspaceId: string | null;
  readonly found?: WorkspaceState;
  readonly skipped?: boolean;
}

/**
 * Carries out one change: audit row, API call, link update, audit outcome. `gated` (default: the
 * planner's {@link isDestructive}) sends it through the destructive gate first.
 */
export async function perform(
  deps: SyncDeps,
  run: SyncRun,
  customer: Customer | null,
  change: Change,
  gated = isDestructive(change),
): Promise<Outcome> {
  const { pool } = deps;
  const entry = auditEntry(run, customer?.id ?? null, change, gated);
  let approvedHold: number | null = null;
  let auditId: number;
  if (gated) {
    const admission = await admitDestructive(pool, deps.limits, entry);
    if (!admission.admitted) {
      run.logger.warn(
        { action: change.action, holdId: admission.holdId, sweepId: admission.sweepId },
        'destructive change held for approval',
      );
      return { held: true, workspaceId: change.workspaceId };
    }
    auditId = admission.auditId;
    approvedHold = admission.approvedHold;
  } else {
    auditId = await startAudit(pool, entry);
  }
  try {
    const result = await call(deps, run, customer, change);
    await finishAudit(
      pool,
      auditId,
      result.skipped ? 'skipped' : 'ok',
      result.skipped ? 'the workspace was linked to a customer meanwhile: left alone' : null,
      result.workspaceId,
    );
    if (approvedHold !== null) await completeHold(pool, approvedHold);
    run.logger.info(
      { action: change.action, workspaceId: result.workspaceId, from: change.from, to: change.to },
      result.skipped ? 'change skipped' : 'change applied',
    );
    return { held: false, ...result };
  } catch (error) {
    await finishAudit(pool, auditId, 'failed', toError(error).message).catch(() => {});
    throw error;
  }
}

/** The API call(s) of one change. */
async function call(
  deps: SyncDeps,
  run: SyncRun,
  customer: Customer | null,
  change: Change,
): Promise<CallResult> {
  const { pool, engine } = deps;
  const id = change.workspaceId;
  switch (change.action) {
    case 'create':
    case 'adopt': {
      if (!customer || !change.to)
        throw new PermanentError(`${change.action} needs a customer and a name`);
      // Get-or-create by name. The id is stored at once: a crash after this point is harmless,
      // since the same name gives the same workspace next time.
      const ws = await engine.createWorkspace(change.to, run.signal);
      if (isDefaultName(ws.name)) {
        throw new PermanentError(
          `workspace ${ws.id} is named "${ws.name}", like the organization's default workspace: not linked`,
        );
      }
      await storeLink(pool, customer.id, ws.id, change.to);
      // Its status may need changing: the caller does that as a change of its own, through the
      // gate (an existing workspace found by name is adopted, not exempted).
      const current = await engine.getWorkspace(ws.id, run.signal);
      return {
        workspaceId: ws.id,
        ...(current
          ? { found: { id: current.id, name: current.name, status: current.status } }
          : {}),
      };
    }
    case 'rename': {
      if (!id || !customer || !change.to)
        throw new PermanentError('rename needs a linked workspace');
      try {
        await engine.updateWorkspace(id, { name: change.to }, run.signal);
      } catch (error) {
        const status = (error as { status?: number }).status;
        if (status === 400 || status === 409 || status === 422) {
          throw new PermanentError(
            `cannot rename workspace ${id} to "${change.to}": ${toError(error).message}`,
            { status },
          );
        }
        throw error;
      }
      await setLinkedName(pool, customer.id, change.to);
      return { workspaceId: id };
    }
    case 'activate':
    case 'deactivate': {
      if (!id) throw new PermanentError(`${change.action} needs a workspace`);
      const status = change.action === 'activate' ? 'active' : 'inactive';
      if (!customer) return orphanCall(deps, id, () => engine.updateWorkspace(id, { status }));
      await engine.updateWorkspace(id, { status }, run.signal);
      return { workspaceId: id };
    }
    case 'delete':
      if (!id) throw new PermanentError('delete needs a workspace');
      if (!customer) return orphanCall(deps, id, () => engine.deleteWorkspace(id, run.signal));
      // Already gone (a 404 or a tombstone): only the link is left to drop.
      if (change.from !== MISSING) await engine.deleteWorkspace(id, run.signal);
      await removeLink(pool, customer.id);
      return { workspaceId: id };
  }
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
