/** What a sweep needs (its ports), what it is asked, and what it reports. */
import type pg from 'pg';

import type { AgentEngine } from '../agent-engine/types.js';
import type { SyncQueue } from '../core/ports.js';
import type { Policy } from '../core/planner.js';
import type { SourceOutage, SourceSize } from '../core/sourceOutage.js';
import type { Change, Conflict, WorkspaceState } from '../core/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { CustomerSource } from '../sql/source.js';

export interface SweepDeps {
  readonly pool: pg.Pool;
  /** Where the customers are read (CUSTOMERS_SOURCE). */
  readonly source: CustomerSource;
  readonly engine: AgentEngine;
  readonly policy: Policy;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly syncQueue: SyncQueue;
  /** How long the sweep lease lasts unrenewed (LOCK_DURATION); default 30 s. */
  readonly lockDurationMs?: number;
}

export interface SweepProgress {
  pages: number;
  workspaces: number;
  customers: number;
  changes: number;
  queued: number;
}

export interface SweepOptions {
  readonly id?: string;
  readonly trigger: 'schedule' | 'manual' | 'overflow';
  /** Plan only: nothing is held, queued or recorded beyond this call (the `plan` command). */
  readonly dryRun?: boolean;
  readonly onProgress?: (progress: SweepProgress) => void;
  readonly onChange?: (change: Change) => void;
  readonly onConflict?: (conflict: Conflict) => void;
  readonly onOrphan?: (orphan: WorkspaceState) => void;
  readonly signal?: AbortSignal;
  /** How long to wait for another sweep's lock before skipping; default one LOCK_DURATION. */
  readonly lockWaitMs?: number;
}

export interface SweepReport {
  readonly id: string;
  /** Another sweep held the lock: this one did nothing. */
  readonly skipped: boolean;
  readonly listingComplete: boolean;
  /** Destructive changes held (or, for a plan, that a sweep would hold) for `approve`. */
  readonly held: boolean;
  /** The mass-change limit holds every destructive change of the plan (one reason for `held`). */
  readonly limitExceeded: boolean;
  /**
   * The customers source looks out (no rows while workspaces are linked, or far fewer than its
   * accepted size): every destructive change of a customer whose row left it is held, whatever
   * the fleet's size. Null when it does not.
   */
  readonly sourceOutage: SourceOutageReport | null;
  /** The plan's destructive changes (`isDestructive`): what the mass-change limit counts. */
  readonly destructive: number;
  readonly counts: Record<string, number>;
  readonly error?: string;
}

/** An outage of the source, as a sweep (or `plan`, `status`) reports it. */
export interface SourceOutageReport extends SourceSize {
  readonly reason: SourceOutage;
  /** Destructive changes of customers whose rows left: held (by a sweep; a plan's would be). */
  readonly held: number;
  /** One sentence for a person. */
  readonly message: string;
}
