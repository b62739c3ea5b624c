/**
 * The simulator's workspace record and its wire form. Records are frozen and replaced on every
 * change, so a workspace handed out by the store is a stable snapshot, and its JSON can be cached.
 */
import type { WorkspaceStatus } from '../core/types.js';

/**
 * A workspace as the simulator holds it: exactly the eight fields of API.md, in camelCase (the
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

/** The two statuses the API knows. */
export const WORKSPACE_STATUSES: readonly WorkspaceStatus[] = ['active', 'inactive'];

/** Whether a value is one of the API's workspace statuses. */
export function isWorkspaceStatus(value: unknown): value is WorkspaceStatus {
  return value === 'active' || value === 'inactive';
}

/** A timestamp as the API writes it: microsecond precision and a `Z`. */
export function isoMicros(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

// Keyed by the frozen record: a changed workspace is a new object, so entries never go stale, and
// a list page of a million-workspace store serialises each record once, not once per page.
const jsonCache = new WeakMap<SimWorkspace, string>();

/** The workspace as the API sends it (snake_case, all eight fields), as a JSON string. */
export function workspaceJson(ws: SimWorkspace): string {
  let json = jsonCache.get(ws);
  if (json === undefined) {
    json = JSON.stringify({
      id: ws.id,
      name: ws.name,
      organization_id: ws.organizationId,
      status: ws.status,
      cache_enabled: ws.cacheEnabled,
      tombstone: ws.tombstone,
      created_at: ws.createdAt,
      updated_at: ws.updatedAt,
    });
    jsonCache.set(ws, json);
  }
  return json;
}
