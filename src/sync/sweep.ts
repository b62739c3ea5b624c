/**
 * The sweep: one full comparison of every customer with every workspace (DESIGN.md §10).
 *
 * 1. Page the workspace list (`limit=100`) into a staging table: the daemon holds one page.
 * 2. Gather each customer's facts in SQL, in id order, a batch at a time, and decide with the
 *    planner's one decision; record the changes.
 * 3. Orphans, from a complete listing only. Destructive changes past the mass-change limit are
 *    held. A listing that failed part-way plans nothing destructive.
 * 4. Queue a sync for each subject with a change, in bulk. The syncs re-check everything.
 *
 * Cost grows with the fleet for reading and with the drift for writing: a fleet in step costs one
 * list pass, a few queries per batch, and no writes to the API.
 */
import { randomUUID } from 'node:crypto';

import type pg from 'pg';

import type { CustomerSource } from '../sql/source.js';

import type { AgentEngine } from '../agent-engine/types.js';
import type { SyncQueue } from '../core/ports.js';
import {
  decideCustomer,
  decideOrphan,
  exceedsDestructiveLimit,
  isDestructive,
  type Policy,
} from '../core/planner.js';
import type { Change, Conflict, WorkspaceState } from '../core/types.js';
import type { Clock } from '../lib/clock.js';
import { SECOND } from '../lib/duration.js';
import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { openCustomerFacts } from '../sql/customerFacts.js';
import { markAllDeletedSeen } from '../sql/links.js';
import {
  createStaging,
  dropStaging,
  dropStaleStaging,
  indexStaging,
  stagingWriter,
} from '../sql/sweepStaging.js';
import {
  createSweepRow,
  decideHolds,
  failAbandonedSweeps,
  linkedCount,
  nextSubjectsToQueue,
  orphansOf,
  type PlannedRow,
  recordChanges,
  refreshLinkStates,
  replaceOrphans,
  updateSweepRow,
} from '../sql/sweeps.js';
import { takeSweepLease } from './sweepLease.js';

const BATCH = 2000;

export interface SweepDeps {
  readonly pool: pg.Pool;
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
  readonly held: boolean;
  readonly counts: Record<string, number>;
  readonly error?: string;
}

async function databaseNow(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ now: Date }>('select now() as now');
  return (rows[0]?.now ?? new Date()).getTime();
}

export async function runSweep(deps: SweepDeps, options: SweepOptions): Promise<SweepReport> {
  const id = options.id ?? randomUUID();
  if (options.dryRun) return sweepLocked(deps, { ...options, id });
  const lockMs = deps.lockDurationMs ?? 30 * SECOND;
  const lease = await takeSweepLease(deps.pool, id, lockMs, deps.logger, {
    waitMs: options.lockWaitMs ?? lockMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!lease) {
    deps.logger.info({ sweepId: id }, 'another sweep is running: skipped');
    return { id, skipped: true, listingComplete: false, held: false, counts: {} };
  }
  try {
    const abandoned = await failAbandonedSweeps(deps.pool, id, new Date(deps.clock.now()));
    if (abandoned.length > 0) {
      deps.logger.warn(
        { sweeps: abandoned },
        'marked failed the sweeps a stopped daemon left running',
      );
    }
    const signal = options.signal ? AbortSignal.any([options.signal, lease.signal]) : lease.signal;
    return await sweepLocked(deps, { ...options, id, signal });
  } finally {
    await lease.release();
  }
}

async function sweepLocked(
  deps: SweepDeps,
  options: SweepOptions & { id: string },
): Promise<SweepReport> {
  const { pool, clock, logger, policy } = deps;
  const { id, dryRun } = options;
  const log = logger.child({ sweepId: id });
  const started = clock.now();
  const progress: SweepProgress = { pages: 0, workspaces: 0, customers: 0, changes: 0, queued: 0 };
  const counts: Record<string, number> = {};
  const bump = (key: string, by = 1) => (counts[key] = (counts[key] ?? 0) + by);
  /** Changes that pass the destructive gate: deactivations, deletes, re-creations. */
  let destructive = 0;
  if (!dryRun) {
    await createSweepRow(pool, id, options.trigger);
    // Under the sweep lock: what a killed sweep left behind.
    await dropStaleStaging(pool, started);
  }
  let listing: string | undefined;
  try {
    // 1. The listing, staged while the next pages are fetched, then indexed for planning.
    const listedSince = new Date(await databaseNow(pool));
    listing = await createStaging(pool, id, started);
    let listingError: string | undefined;
    const staging = stagingWriter(pool, listing);
    try {
      for await (const page of deps.engine.listWorkspaces(
        options.signal ? { signal: options.signal } : {},
      )) {
        await staging.add(page);
        progress.pages += 1;
        progress.workspaces += page.length;
        options.onProgress?.(progress);
      }
    } catch (error) {
      listingError = toError(error).message;
    }
    try {
      // Also after a failed page: what was listed before it is staged, as it always was.
      await staging.finish();
    } catch (error) {
      listingError ??= toError(error).message;
    }
    if (listingError !== undefined) {
      log.warn(
        { err: listingError },
        'workspace listing failed part-way: nothing will be deleted or deactivated',
      );
    }
    await indexStaging(pool, listing);
    const listingComplete = listingError === undefined;
    // Due times are decided on the database's clock, the one every daemon shares.
    const now = await databaseNow(pool);
    if (!dryRun) {
      await updateSweepRow(pool, id, { listedAt: new Date(now), listingComplete });
      await markAllDeletedSeen(pool, deps.source, policy.deleteGraceMs);
    }

    // 2. Customers, a batch at a time; those already in step never leave Postgres.
    const facts = await openCustomerFacts(pool, deps.source, {
      listing,
      template: policy.nameTemplate,
      listingComplete,
      listedFrom: listedSince,
    });
    // Every customer of the pass is read (in Postgres): the count is known before the first batch.
    progress.customers = facts.total;
    options.onProgress?.(progress);
    try {
      for (;;) {
        options.signal?.throwIfAborted();
        const batch = await facts.next(BATCH);
        if (batch.length === 0) break;
        const planned: PlannedRow[] = [];
        for (const customerFacts of batch) {
          const decision = decideCustomer(customerFacts, policy, now);
          for (const change of decision.changes) {
            if (!listingComplete && isDestructive(change)) continue;
            planned.push(change);
            bump(change.action);
            if (isDestructive(change)) destructive += 1;
            options.onChange?.(change);
          }
          if (decision.conflict) {
            bump('conflicts');
            options.onConflict?.(decision.conflict);
            const { customerId, name } = decision.conflict;
            planned.push({
              customerId,
              action: 'conflict',
              workspaceId: null,
              from: null,
              to: name,
            });
          }
        }
        progress.changes += planned.length;
        await recordChanges(pool, id, planned);
        options.onProgress?.(progress);
      }
    } finally {
      await facts.close();
    }

    // 3. Orphans (acted on only from a complete listing).
    let orphanAfter: string | null = null;
    for (;;) {
      const orphans = await orphansOf(pool, id, listing, orphanAfter, BATCH);
      if (orphans.length === 0) break;
      orphanAfter = orphans[orphans.length - 1]?.id ?? orphanAfter;
      bump('orphans', orphans.length);
      const planned: Change[] = [];
      for (const orphan of orphans) {
        options.onOrphan?.(orphan);
        const change = listingComplete ? decideOrphan(orphan, policy) : null;
        if (change) {
          planned.push(change);
          options.onChange?.(change);
          bump(change.action);
          if (isDestructive(change)) destructive += 1;
        }
      }
      await recordChanges(pool, id, planned);
    }
    // A sweep that lost its lock holds nothing or queues nothing more: another one runs now.
    options.signal?.throwIfAborted();
    const linked = await linkedCount(pool, listing);
    const held = exceedsDestructiveLimit(destructive, linked, policy);
    counts.workspaces = progress.workspaces;
    counts.customers = progress.customers;
    counts.pages = progress.pages;
    counts.linked = linked;

    const report: SweepReport = {
      id,
      skipped: false,
      listingComplete,
      held,
      counts,
      ...(listingError ? { error: listingError } : {}),
    };
    if (dryRun) return report;
    if (listingComplete) await replaceOrphans(pool, id, listing, new Date(now));
    // What the listing showed becomes the links' last-known state: the syncs it queues decide
    // from it and spend no GET.
    await refreshLinkStates(pool, listing, listingComplete, listedSince);
    // Committed before anything is queued: until then no trigger treats this plan as admitted.
    const holds = await decideHolds(pool, id, held);
    if (held) {
      counts.held = holds;
      log.warn(
        {
          destructive,
          linked,
          limit: policy.maxDestructivePerSweep,
          share: policy.maxDestructiveShare,
        },
        `sweep would deactivate, delete or re-create ${destructive} of ${linked} workspaces: held for approval (approve ${id})`,
      );
    }
    // 4. Queue the syncs, in bulk.
    let lastId = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const next = await nextSubjectsToQueue(pool, id, lastId, BATCH);
      if (next.subjects.length === 0 && next.lastId === lastId) break;
      lastId = next.lastId;
      await deps.syncQueue.enqueue(next.subjects, 'sweep', id);
      progress.queued += next.subjects.length;
      options.onProgress?.(progress);
    }
    counts.queued = progress.queued;
    const outcome = !listingComplete ? 'incomplete' : held ? 'held' : 'ok';
    await updateSweepRow(pool, id, {
      finishedAt: new Date(clock.now()),
      outcome,
      counts,
      ...(listingError ? { error: listingError } : {}),
    });
    log.info({ counts, outcome, ms: clock.now() - started }, 'sweep planned');
    return report;
  } catch (error) {
    if (!dryRun) {
      await updateSweepRow(pool, id, {
        finishedAt: new Date(clock.now()),
        outcome: 'failed',
        counts,
        error: toError(error).message,
      }).catch(() => {});
    }
    throw error;
  } finally {
    if (listing) await dropStaging(pool, listing).catch(() => {});
    if (dryRun)
      await pool.query('delete from sweep_changes where sweep_id = $1', [id]).catch(() => {});
  }
}
