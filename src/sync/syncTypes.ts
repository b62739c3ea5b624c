/** What a sync needs (its ports) and what one run of it is (its job). */
import type pg from 'pg';

import type { AgentEngine, MutationOptions } from '../agent-engine/types.js';
import type { Policy } from '../core/planner.js';
import type { Subject } from '../core/subject.js';
import type { Change, Trigger } from '../core/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { AuditStart } from '../sql/audit.js';
import type { CustomerSource } from '../sql/source.js';
import { assertClaim, type Claim } from '../sql/syncClaims.js';

export interface SyncDeps {
  readonly pool: pg.Pool;
  readonly source: CustomerSource;
  readonly engine: AgentEngine;
  readonly policy: Policy;
  /** The region id a workspace is minted in when its customer's row names none (DEFAULT_REGION). */
  readonly defaultRegion: string;
  /**
   * The destructive gate's rolling window (one `SWEEP_EVERY`); its limit is the policy's.
   */
  readonly destructiveWindowMs: number;
  readonly clock: Clock;
  /**
   * Asks for another look at a customer at a later time (a deleted customer's due delete); `at`
   * and `now` are the database's times.
   */
  readonly recheckAt: (customerId: string, at: number, now: number) => Promise<void>;
}

export interface SyncRun {
  readonly subject: Subject;
  readonly trigger: Trigger;
  /** The sweep that asked, for the audit. */
  readonly sweepId?: string;
  /**
   * A person asked for this sync by name: it reads the workspace (a GET) before deciding, as
   * `explain` does, instead of trusting the link's last-known state.
   */
  readonly readFirst?: boolean;
  readonly jobId: string | null;
  readonly attempt: number;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** A run once it has claimed its subject, as a sync does first (src/sql/syncClaims.ts). */
export interface ClaimedRun extends SyncRun {
  readonly claim: Claim;
}

/** A mutating call of this run: sent only while no newer sync of the subject has started. */
export function mutation(deps: Pick<SyncDeps, 'pool'>, run: ClaimedRun): MutationOptions {
  return {
    ...(run.signal ? { signal: run.signal } : {}),
    guard: () => assertClaim(deps.pool, run.claim),
  };
}

/** The audit row of one change (or of a conflict, as a failed `create`) made by this run. */
export function auditEntry(
  run: SyncRun,
  customerId: string | null,
  change: Pick<Change, 'action' | 'workspaceId' | 'from' | 'to'>,
  destructive: boolean,
): AuditStart {
  return {
    trigger: run.trigger,
    sweepId: run.sweepId ?? null,
    jobId: run.jobId,
    customerId,
    workspaceId: change.workspaceId,
    action: change.action,
    before: change.from,
    after: change.to,
    attempts: run.attempt,
    destructive,
  };
}
