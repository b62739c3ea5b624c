/**
 * The Agent Engine as customer-sync sees it (`docs/agent-engine-api.md`). Every method throws
 * only `SyncFailure`s (`src/lib/errors.ts`): RetryableError, PermanentError or AuthError.
 */
import type { WorkspaceStatus } from '../core/types.js';

/** The workspace object; all eight fields are always present in the API's answers. */
export interface Workspace {
  readonly id: string;
  readonly name: string;
  readonly organizationId: string;
  readonly status: WorkspaceStatus;
  readonly cacheEnabled: boolean | null;
  readonly tombstone: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ListOptions {
  readonly status?: WorkspaceStatus;
  readonly nameContains?: string;
  readonly signal?: AbortSignal;
}

/** How one mutating call is made. */
export interface MutationOptions {
  readonly signal?: AbortSignal;
  /**
   * Runs right before each attempt is sent (after its rate-limit slot and token); what it throws
   * stops the call unsent. A sync checks here that no newer sync of its subject has started.
   */
  readonly guard?: () => Promise<void>;
}

export interface AgentEngine {
  /** Every live workspace, one page (`limit=100`) at a time, following `next` to its end. */
  listWorkspaces(options?: ListOptions): AsyncIterable<readonly Workspace[]>;
  /** The workspace, or undefined when the API answers 404 (unknown or deleted). */
  getWorkspace(id: string, signal?: AbortSignal): Promise<Workspace | undefined>;
  /**
   * A partial update (rename and/or change status) carrying only the fields given; its answer is
   * the workspace as it is now, or undefined when the API says it is gone (404 or tombstone).
   */
  updateWorkspace(
    id: string,
    patch: { name?: string; status?: WorkspaceStatus },
    options?: MutationOptions,
  ): Promise<Workspace | undefined>;
  /** Deletes; a 404 (already gone, e.g. a retried delete) counts as done. */
  deleteWorkspace(id: string, options?: MutationOptions): Promise<void>;
  /**
   * Get-or-create by exact name: mints a scoped token for the name and reads its info. The scoped
   * token is used for that one call and never stored or logged. The guard is run before the mint
   * (the call that may create); the info call after it only reads.
   */
  createWorkspace(
    name: string,
    options?: MutationOptions & {
      /**
       * `region_id` of the mint: the region a workspace created by it lives in (the API's
       * default, US, when absent); a workspace that already has the name stays where it is.
       */
      readonly regionId?: string;
    },
  ): Promise<{ id: string; name: string }>;
}

/** Observes every HTTP call the client makes (metrics, benchmarks). */
export interface CallObserver {
  onCall?(call: {
    route: string;
    method: string;
    status: number | 'error';
    durationMs: number;
  }): void;
  onTokenMint?(): void;
}
