/**
 * The simulator's workspace record and its wire form. The store hands out frozen snapshots: a
 * workspace read before a change keeps its old values.
 */
import type { WorkspaceStatus } from '../src/core/types.js';

/**
 * A workspace as the simulator holds it: docs/agent-engine-api.md's eight fields, in camelCase (the
 * same shape as the client's `Workspace`); {@link workspaceJson} gives the snake_case wire form.
 */
export interface SimWorkspace {
  readonly id: string;
  readonly name: string;
  readonly organizationId: string;
  readonly status: WorkspaceStatus;
  readonly cacheEnabled: boolean | null;
  readonly tombstone: boolean;
  /** ISO 8601 with microseconds, like the real API: `2026-04-20T21:57:20.991000Z`. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * A workspace as the simulator saves it between runs (the demo's state): the API's fields and the
 * region it was created in, which the API does not show. A record without one was created in the US.
 */
export interface SimRecord extends SimWorkspace {
  readonly regionId?: string;
}

/** The two statuses the API knows. */
export const WORKSPACE_STATUSES: readonly WorkspaceStatus[] = ['active', 'inactive'];

/** Whether a value is one of the API's workspace statuses. */
export function isWorkspaceStatus(value: unknown): value is WorkspaceStatus {
  return value === 'active' || value === 'inactive';
}

let lastMs = NaN;
let lastIso = '';

/** A timestamp as the API writes it: microsecond precision and a `Z`. */
export function isoMicros(ms: number): string {
  // Seeded workspaces share one timestamp: a one-entry memo makes their pages cheaper.
  if (ms !== lastMs) {
    lastIso = `${new Date(ms).toISOString().slice(0, -1)}000Z`;
    lastMs = ms;
  }
  return lastIso;
}

/**
 * The workspace as the API sends it (snake_case, all eight fields), as a JSON string. Built by
 * hand: only the name can need escaping, and a list page at a million workspaces is the hot path.
 */
export function workspaceJson(ws: SimWorkspace): string {
  return (
    `{"id":"${ws.id}","name":${JSON.stringify(ws.name)},"organization_id":"${ws.organizationId}",` +
    `"status":"${ws.status}","cache_enabled":${String(ws.cacheEnabled)},` +
    `"tombstone":${String(ws.tombstone)},"created_at":"${ws.createdAt}","updated_at":"${ws.updatedAt}"}`
  );
}

/** Why the store refused a change; the HTTP layer maps each code onto the API's answer. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: 'not_found' | 'name_taken' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/** Throws an `invalid` StoreError unless `name` is a non-blank string. */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '') {
    throw new StoreError('invalid', 'a workspace name must be a non-empty string');
  }
}

/** Throws an `invalid` StoreError unless `status` is active or inactive. */
export function checkStatus(status: unknown): asserts status is WorkspaceStatus {
  if (!isWorkspaceStatus(status)) {
    throw new StoreError('invalid', `status must be active or inactive, got ${String(status)}`);
  }
}
