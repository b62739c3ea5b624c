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
  holdDestructive,
  linkedCount,
  nextSubjectsToQueue,
  orphansOf,
  type PlannedRow,
  recordChanges,
  replaceOrphans,
  updateSweepRow,
} from '../sql/sweeps.js';

/** An arbitrary constant naming the one-sweep-at-a-time lock. */
const SWEEP_LOCK = 0x73_77_65_65; // "swee"
const BATCH = 2000;

export interface SweepDeps {
  readonly pool: pg.Pool;
  readonly engine: AgentEngine;
  readonly policy: Policy;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly syncQueue: SyncQueue;
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
  readonly trigger: 'schedule' | 'manual';
  /** Plan only: nothing is held, queued or recorded beyond this call (the `plan` command). */
  readonly dryRun?: boolean;
  readonly onProgress?: (progress: SweepProgress) => void;
  readonly onChange?: (change: Change) => void;
  readonly onConflict?: (conflict: Conflict) => void;
  readonly onOrphan?: (orphan: WorkspaceState) => void;
  readonly signal?: AbortSignal;
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

export async function runSweep(deps: SweepDeps, options: SweepOptions): Promise<SweepReport> {
  const id = options.id ?? randomUUID();
  const lock = await deps.pool.connect();
  try {
    if (!options.dryRun) {
      const { rows } = await lock.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
        SWEEP_LOCK,
      ]);
      if (!rows[0]?.ok) {
        deps.logger.info({ sweepId: id }, 'another sweep is running: skipped');
        return { id, skipped: true, listingComplete: false, held: false, counts: {} };
      }
    }
    try {
      return await sweepLocked(deps, { ...options, id });
    } finally {
      if (!options.dryRun) await lock.query('select pg_advisory_unlock($1)', [SWEEP_LOCK]);
    }
  } finally {
    lock.release();
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
  if (!dryRun) {
    await createSweepRow(pool, id, options.trigger, new Date(started));
    // Under the sweep lock: what a killed sweep left behind.
    await dropStaleStaging(pool, started);
  }
  let listing: string | undefined;
  try {
    // 1. The listing, staged while the next pages are fetched, then indexed for planning.
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
    const now = clock.now();
    if (!dryRun) {
      await updateSweepRow(pool, id, { listedAt: new Date(now) });
      await markAllDeletedSeen(pool, new Date(now), policy.deleteGraceMs);
    }

    // 2. Customers, a batch at a time; those already in step never leave Postgres.
    const facts = await openCustomerFacts(pool, {
      listing,
      template: policy.nameTemplate,
      listingComplete,
      listedFrom: new Date(started),
    });
    // Every customer of the pass is read (in Postgres): the count is known before the first batch.
    progress.customers = facts.total;
    options.onProgress?.(progress);
    try {
      for (;;) {
        const batch = await facts.next(BATCH);
        if (batch.length === 0) break;
        const planned: PlannedRow[] = [];
        for (const customerFacts of batch) {
          const decision = decideCustomer(customerFacts, policy, now);
          for (const change of decision.changes) {
            if (!listingComplete && isDestructive(change)) continue;
            planned.push(change);
            bump(change.action);
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
        }
      }
      await recordChanges(pool, id, planned);
    }
    const destructive = (counts.deactivate ?? 0) + (counts.delete ?? 0);
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
    if (held) {
      counts.held = await holdDestructive(pool, id, new Date(now));
      log.warn(
        {
          destructive,
          linked,
          limit: policy.maxDestructivePerSweep,
          share: policy.maxDestructiveShare,
        },
        `sweep would deactivate or delete ${destructive} of ${linked} workspaces: held for approval (approve ${id})`,
      );
    }
    // 4. Queue the syncs, in bulk.
    let lastId = 0;
    for (;;) {
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
