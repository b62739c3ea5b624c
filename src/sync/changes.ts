/**
 * Carrying out one change: the audit row (through the destructive gate for deactivations and
 * deletes), the Agent Engine call, the link update, the audit outcome. This is where a workspace
 * is created, adopted, renamed, activated, deactivated and deleted.
 */
import type { Change, Customer } from '../core/types.js';
import { PermanentError, toError } from '../lib/errors.js';
import { type AuditStart, finishAudit, startAudit } from '../sql/audit.js';
import { removeLink, setLinkedName, storeLink } from '../sql/links.js';
import { admitDestructive, completeHold } from './destructive.js';
import type { SyncDeps, SyncRun } from './syncSubject.js';

export interface Outcome {
  readonly held: boolean;
  readonly workspaceId: string | null;
}

/** Carries out one change: audit row, API call, link update, audit outcome. */
export async function perform(
  deps: SyncDeps,
  run: SyncRun,
  customer: Customer | null,
  change: Change,
): Promise<Outcome> {
  const { pool, clock } = deps;
  const entry: AuditStart = {
    at: new Date(clock.now()),
    trigger: run.trigger,
    sweepId: run.sweepId ?? null,
    jobId: run.jobId,
    customerId: customer?.id ?? null,
    workspaceId: change.workspaceId,
    action: change.action,
    before: change.from,
    after: change.to,
    attempts: run.attempt,
    destructive: change.action === 'deactivate' || change.action === 'delete',
  };
  let approvedHold: number | null = null;
  let auditId: number;
  if (entry.destructive) {
    const admission = await admitDestructive(pool, deps.limits, {
      ...entry,
      action: change.action as 'deactivate' | 'delete',
    });
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
    const workspaceId = await call(deps, run, customer, change);
    await finishAudit(pool, auditId, 'ok', null, workspaceId);
    if (approvedHold !== null) await completeHold(pool, approvedHold, new Date(clock.now()));
    run.logger.info(
      { action: change.action, workspaceId, from: change.from, to: change.to },
      'change applied',
    );
    return { held: false, workspaceId };
  } catch (error) {
    await finishAudit(pool, auditId, 'failed', toError(error).message).catch(() => {});
    throw error;
  }
}

/** The API call(s) of one change; returns the workspace id it concerned. */
async function call(
  deps: SyncDeps,
  run: SyncRun,
  customer: Customer | null,
  change: Change,
): Promise<string | null> {
  const { pool, engine, clock } = deps;
  const id = change.workspaceId;
  switch (change.action) {
    case 'create':
    case 'adopt': {
      if (!customer || !change.to)
        throw new PermanentError(`${change.action} needs a customer and a name`);
      // Get-or-create by name. The id is stored at once: a crash after this point is harmless,
      // since the same name gives the same workspace next time.
      const ws = await engine.createWorkspace(change.to, run.signal);
      await storeLink(pool, customer.id, ws.id, change.to, new Date(clock.now()));
      const current = await engine.getWorkspace(ws.id, run.signal);
      const wanted = customer.status === 'inactive' ? 'inactive' : 'active';
      if (current && current.status !== wanted) {
        await engine.updateWorkspace(ws.id, { status: wanted }, run.signal);
      }
      return ws.id;
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
      return id;
    }
    case 'activate':
    case 'deactivate':
      if (!id) throw new PermanentError(`${change.action} needs a workspace`);
      await engine.updateWorkspace(
        id,
        { status: change.action === 'activate' ? 'active' : 'inactive' },
        run.signal,
      );
      return id;
    case 'delete':
      if (!id) throw new PermanentError('delete needs a workspace');
      await engine.deleteWorkspace(id, run.signal);
      if (customer) await removeLink(pool, customer.id);
      return id;
  }
}
