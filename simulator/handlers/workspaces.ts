/**
 * The workspace routes other than the list: stats, get, partial update, delete. Unknown and
 * tombstoned ids answer 404 alike, as the real API does, unless the `tombstoneOnGet` fault makes a
 * GET answer a deleted id with its object and `tombstone: true`.
 */
import type { WorkspaceStatus } from '../../src/core/types.js';
import {
  apiError,
  faultReply,
  type Issue,
  invalid,
  ok,
  type Reply,
  WORKSPACE_NOT_FOUND,
} from '../answers.js';
import type { RequestContext } from '../context.js';
import { StoreError, type WorkspacePatch } from '../store.js';
import { bodyObject, NOT_AN_OBJECT } from '../validate.js';
import { isWorkspaceStatus, type SimWorkspace, workspaceJson } from '../workspace.js';

/** `GET /api/v1/workspaces/stats`: live workspaces only. */
export function workspaceStats(ctx: RequestContext): Reply {
  const { active, inactive, total } = ctx.sim.store.counts();
  return ok({ active_count: active, inactive_count: inactive, total_count: total });
}

/** `GET /api/v1/workspaces/{id}`. */
export function getWorkspace(ctx: RequestContext): Reply {
  const workspace = ctx.sim.faults.settings.tombstoneOnGet
    ? ctx.sim.store.getIncludingDeleted(idOf(ctx))
    : ctx.sim.store.get(idOf(ctx));
  return workspace ? workspaceReply(workspace) : WORKSPACE_NOT_FOUND;
}

/** `PUT /api/v1/workspaces/{id}`: any of name, status, cache_enabled; all or nothing. */
export function updateWorkspace(ctx: RequestContext): Reply {
  const body = bodyObject(ctx.body);
  if (!body) return invalid([NOT_AN_OBJECT]);
  const parsed = parsePatch(body);
  if (Array.isArray(parsed)) return invalid(parsed);
  try {
    const before = ctx.sim.store.get(idOf(ctx));
    const after = ctx.sim.store.update(idOf(ctx), parsed);
    if (before) journalUpdate(ctx, before, after);
    return workspaceReply(after);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    if (error.code === 'not_found') return WORKSPACE_NOT_FOUND;
    if (error.code === 'name_taken') {
      return apiError(422, 'A workspace with this name already exists', [
        {
          field: 'name',
          message: `Workspace name '${parsed.name ?? ''}' is already in use in this organization`,
          error_code: 'workspace_name_conflict',
          details: { name: parsed.name ?? null },
        },
      ]);
    }
    return apiError(422, 'Invalid workspace update', [
      { field: 'name', message: error.message, error_code: 'invalid_value', details: null },
    ]);
  }
}

/** `DELETE /api/v1/workspaces/{id}`; with the 504 fault it deletes and then answers 504. */
export function deleteWorkspace(ctx: RequestContext): Reply {
  let deleted: { id: string; deletedAt: string };
  try {
    const before = ctx.sim.store.get(idOf(ctx));
    deleted = ctx.sim.store.delete(idOf(ctx));
    if (before) {
      const from = { name: before.name, status: before.status };
      ctx.sim.journal.mutations.push({
        kind: 'delete',
        at: ctx.sim.clock.now(),
        workspaceId: before.id,
        from,
      });
    }
  } catch (error) {
    if (error instanceof StoreError && error.code === 'not_found') return WORKSPACE_NOT_FOUND;
    throw error;
  }
  // The real API's delete can outlast the gateway: the caller sees 504 but the work is done.
  if (ctx.faultsApply && ctx.sim.faults.deleteTimesOut()) return faultReply(504);
  return ok({ id: deleted.id, deleted_at: deleted.deletedAt });
}

/** Journals what an update changed (nothing when it changed neither name nor status). */
function journalUpdate(ctx: RequestContext, before: SimWorkspace, after: SimWorkspace): void {
  const renamed = after.name !== before.name;
  const restatused = after.status !== before.status;
  if (!renamed && !restatused) return;
  ctx.sim.journal.mutations.push({
    kind: 'update',
    at: ctx.sim.clock.now(),
    workspaceId: after.id,
    from: { name: before.name, status: before.status },
    ...(renamed ? { name: after.name } : {}),
    ...(restatused ? { status: after.status } : {}),
  });
}

function workspaceReply(workspace: SimWorkspace): Reply {
  return { status: 200, body: workspaceJson(workspace) };
}

function idOf(ctx: RequestContext): string {
  if (ctx.id === undefined) throw new Error('workspace route without an id');
  return ctx.id;
}

/** The body's fields as a patch, or the issues. A null name or status means "leave as is". */
function parsePatch(body: Record<string, unknown>): WorkspacePatch | Issue[] {
  const issues: Issue[] = [];
  const patch: { name?: string; status?: WorkspaceStatus; cacheEnabled?: boolean | null } = {};
  const { name, status, cache_enabled: cacheEnabled } = body;
  if (typeof name === 'string') patch.name = name;
  else if (name !== undefined && name !== null) {
    issues.push({
      loc: ['body', 'name'],
      msg: 'Input should be a valid string',
      type: 'string_type',
    });
  }
  if (isWorkspaceStatus(status)) patch.status = status;
  else if (status !== undefined && status !== null) {
    issues.push({
      loc: ['body', 'status'],
      msg: "Input should be 'active' or 'inactive'",
      type: 'enum',
    });
  }
  // Unlike name and status, null is a value here: "inherit from the organization".
  if (typeof cacheEnabled === 'boolean' || cacheEnabled === null) patch.cacheEnabled = cacheEnabled;
  else if (cacheEnabled !== undefined) {
    issues.push({
      loc: ['body', 'cache_enabled'],
      msg: 'Input should be a valid boolean',
      type: 'bool_type',
    });
  }
  return issues.length > 0 ? issues : patch;
}
