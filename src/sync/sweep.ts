/**
 * The sweep: one full comparison of every customer with every workspace (docs/design.md §10).
 *
 * 1. Page the workspace list (`limit=100`) into a staging table: the daemon holds one page.
 *    Beside it, stage the customers out of step with their links' last-known state.
 * 2. Diff the listing with the links; gather the facts of the customers either of these names in
 *    SQL, in id order, a batch at a time, and decide with the planner's one decision; record the
 *    changes.
 * 3. Orphans, from a complete listing only. Destructive changes past the mass-change limit are
 *    held. A listing that failed part-way plans nothing destructive.
 * 4. Queue a sync for each subject with a change, in bulk. The syncs re-check everything.
 *
 * Each phase is in `sweepPhases.ts`; this file holds the lease and the sweep row around them.
 *
 * Cost grows with the fleet for reading and with the drift for writing: a fleet in step costs one
 * list pass, a few queries per batch, and no writes to the API.
 */
import { randomUUID } from 'node:crypto';

import { SECOND } from '../lib/duration.js';
import { toError } from '../lib/errors.js';
import { databaseNow } from '../sql/clock.js';
import { createStaging, dropStaging, dropStaleStaging } from '../sql/sweepStaging.js';
import {
  createSweepRow,
  dropPlannedChanges,
  failAbandonedSweeps,
  updateSweepRow,
} from '../sql/sweeps.js';
import { takeSweepLease } from './sweepLease.js';
import {
  holdAndQueue,
  findHoldReasons,
  learnFromListing,
  type Listing,
  openFacts,
  planCustomers,
  planOrphans,
  prepareCandidates,
  refreshLinks,
  type SweepRun,
  stageListing,
} from './sweepPhases.js';

import type { SweepDeps, SweepOptions, SweepReport } from './sweepTypes.js';

export type { SweepDeps, SweepOptions, SweepProgress, SweepReport } from './sweepTypes.js';

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
    const none = { listingComplete: false, held: false, limitExceeded: false, counts: {} };
    return { id, skipped: true, sourceOutage: null, destructive: 0, ...none };
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
    return await sweepLocked(deps, { ...options, id, signal }, lease.holder);
  } finally {
    await lease.release();
  }
}

/** Waits for `work` to end, whichever way: its failure is someone else's to throw. */
const settled = (work: Promise<unknown>): Promise<unknown> => work.catch(() => undefined);

/**
 * Work begun beside other work: its failure waits for whoever awaits it, and is not reported as
 * unhandled meanwhile (Node ends the process on an unhandled rejection: candidates that failed
 * during a long listing took the whole daemon down).
 */
function beside<T>(work: Promise<T>): Promise<T> {
  void settled(work);
  return work;
}

/**
 * The sweep once its lease is held (or a dry run): its phases, its row, its clean-up. The row is
 * written only while `holder` still holds the lease.
 */
async function sweepLocked(
  deps: SweepDeps,
  options: SweepOptions & { id: string },
  holder?: string,
): Promise<SweepReport> {
  const { pool, clock } = deps;
  const { id, dryRun } = options;
  const started = clock.now();
  const run: SweepRun = {
    deps,
    options,
    log: deps.logger.child({ sweepId: id }),
    progress: { pages: 0, workspaces: 0, customers: 0, changes: 0, queued: 0 },
    counts: {},
    destructive: 0,
  };
  if (!dryRun) {
    await createSweepRow(pool, id, options.trigger);
    // Under the sweep lease: what a killed sweep left behind.
    await dropStaleStaging(pool, started);
  }
  let table: string | undefined;
  try {
    table = await createStaging(pool, id, started);
    const since = new Date(await databaseNow(pool));
    const listing = await listBesideCandidates(run, table, since);
    // Due times are decided on the database's clock, the one every daemon shares.
    const now = await databaseNow(pool);
    if (!dryRun) {
      await updateSweepRow(
        pool,
        id,
        { listedAt: new Date(now), listingComplete: listing.complete },
        holder,
      );
    }
    const reasons = await planAndFindHoldReasons(run, listing, now);
    const held = reasons.limit || (reasons.outage?.held ?? 0) > 0;
    const report: SweepReport = {
      id,
      skipped: false,
      listingComplete: listing.complete,
      held,
      limitExceeded: reasons.limit,
      sourceOutage: reasons.outage,
      destructive: run.destructive,
      counts: run.counts,
      ...(listing.error ? { error: listing.error } : {}),
    };
    if (dryRun) return report;
    await holdAndQueue(run, listing, reasons);
    await finishSweepRow(run, listing, held, started, holder);
    return report;
  } catch (error) {
    if (!dryRun) await failSweepRow(run, error, holder);
    throw error;
  } finally {
    if (table) await dropStaging(pool, table).catch(() => {});
    if (dryRun) await dropPlannedChanges(pool, id).catch(() => {});
  }
}

/** Phase 1: lists the workspaces into `table` while the candidates are staged beside it. */
async function listBesideCandidates(run: SweepRun, table: string, since: Date): Promise<Listing> {
  // The candidates read only customers and links: they are staged while the workspaces are
  // listed, on another connection.
  const preparing = beside(prepareCandidates(run, table));
  let listing: Listing;
  try {
    listing = await stageListing(run, table, since);
  } finally {
    await settled(preparing);
  }
  run.progress.customers = await preparing;
  return listing;
}

/** Phases 2 and 3: plans the customers and the orphans, then finds what the plan must hold and why. */
async function planAndFindHoldReasons(
  run: SweepRun,
  listing: Listing,
  now: number,
): Promise<Awaited<ReturnType<typeof findHoldReasons>>> {
  const diff = await learnFromListing(run, listing);
  const facts = await openFacts(run, listing, diff);
  // From here planning reads its own snapshot: the links' state is refreshed beside it.
  const refreshing = beside(refreshLinks(run, listing, diff));
  try {
    await planCustomers(run, listing, facts, now);
  } finally {
    await settled(refreshing);
  }
  await refreshing;
  await planOrphans(run, listing, diff, now);
  // A sweep that lost its lease holds nothing and queues nothing more: another one runs now.
  run.options.signal?.throwIfAborted();
  return findHoldReasons(run, listing);
}

/** Writes a finished sweep's outcome and counts to its row, and logs it. */
async function finishSweepRow(
  run: SweepRun,
  listing: Listing,
  held: boolean,
  started: number,
  holder: string | undefined,
): Promise<void> {
  const { pool, clock } = run.deps;
  const outcome = !listing.complete ? 'incomplete' : held ? 'held' : 'ok';
  await updateSweepRow(
    pool,
    run.options.id,
    {
      finishedAt: new Date(clock.now()),
      outcome,
      counts: run.counts,
      ...(listing.error ? { error: listing.error } : {}),
    },
    holder,
  );
  run.log.info({ counts: run.counts, outcome, ms: clock.now() - started }, 'sweep planned');
}

/** Marks the sweep's row failed with the error's message; a failure to write it is ignored. */
async function failSweepRow(
  run: SweepRun,
  error: unknown,
  holder: string | undefined,
): Promise<void> {
  const { pool, clock } = run.deps;
  await updateSweepRow(
    pool,
    run.options.id,
    {
      finishedAt: new Date(clock.now()),
      outcome: 'failed',
      counts: run.counts,
      error: toError(error).message,
    },
    holder,
  ).catch(() => {});
}
