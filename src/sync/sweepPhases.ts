/**
 * The sweep's phases, each over one small run context ({@link SweepRun}):
 *
 * 1. {@link stageListing}: page the workspace list into the run's own staging table. Beside it,
 *    on another connection, {@link prepareCandidates}: the customers not in step with their
 *    links' last-known state, which needs no listing.
 * 2. {@link learnFromListing}: the listing indexed and diffed with the links at once; then
 *    {@link planCustomers}: the facts of the candidates and of the customers whose links the
 *    listing contradicts ({@link openFacts}), a batch at a time, decided by the planner's one
 *    decision; changes recorded. Beside it, {@link refreshLinks}: the links' last-known state.
 * 3. {@link planOrphans}: workspaces linked to no customer (the orphan report replaced), acted on
 *    from a complete listing only.
 * 4. {@link findHoldReasons}: the mass-change limit and the source's outage;
 *    {@link holdAndQueue}: the hold decision committed (with the holds the plan no longer calls
 *    for voided), then the syncs queued in bulk.
 */
import { exceedsDestructiveLimit, isDestructive } from '../core/destructive.js';
import { decideCustomer, decideOrphan } from '../core/planner.js';
import { outageMessage, type SourceSize, sourceOutage } from '../core/sourceOutage.js';
import type { Change, WorkspaceState } from '../core/types.js';
import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { type FactsCursor, openCustomerFacts, stageCandidates } from '../sql/customerFacts.js';
import { markAllDeletedSeen } from '../sql/links.js';
import { measureSource } from '../sql/sourceSize.js';
import { countGatedOfLeft, decideHolds } from '../sql/sweepHolds.js';
import { candidatesTableOf, indexStaging, stagingWriter } from '../sql/sweepStaging.js';
import {
  diffLinks,
  type LinkDiff,
  nextSubjectsToQueue,
  orphansOf,
  type PlannedRow,
  recordChanges,
  refreshLinkStates,
  replaceOrphans,
  reportedOrphans,
} from '../sql/sweeps.js';
import type { SourceOutageReport, SweepDeps, SweepOptions, SweepProgress } from './sweepTypes.js';

const BATCH = 2000;

/** What every phase of one sweep shares. */
export interface SweepRun {
  readonly deps: SweepDeps;
  readonly options: SweepOptions & { readonly id: string };
  readonly log: Logger;
  readonly progress: SweepProgress;
  /** Changes by action, and the sweep's other figures, as its row records them. */
  readonly counts: Record<string, number>;
  /** Changes that pass the destructive gate: deactivations, deletes, re-creations. */
  destructive: number;
}

/** The staged listing, once paged to its end or to its first failure. */
export interface Listing {
  /** The staging table's name (built by `sql/sweepStaging.ts`, never from input). */
  readonly table: string;
  /** Read to its end: only then is anything destructive or any orphan acted on. */
  readonly complete: boolean;
  readonly error?: string;
  /** When the listing began, on the database's clock. */
  readonly since: Date;
  /** How many workspaces were staged (with any the cursor repeated). */
  readonly staged: number;
}

const bump = (run: SweepRun, key: string, by = 1) =>
  (run.counts[key] = (run.counts[key] ?? 0) + by);

/** Notes a planned change: counted, reported, and counted as destructive when it is. */
function note(run: SweepRun, change: Change): void {
  bump(run, change.action);
  if (isDestructive(change)) run.destructive += 1;
  run.options.onChange?.(change);
}

/**
 * 1. Pages the list into the run's staging table (made by `createStaging`), staged while the next
 * pages are fetched.
 */
export async function stageListing(run: SweepRun, table: string, since: Date): Promise<Listing> {
  const { deps, options, progress } = run;
  let error: string | undefined;
  const staging = stagingWriter(deps.pool, table);
  try {
    for await (const page of deps.engine.listWorkspaces(
      options.signal ? { signal: options.signal } : {},
    )) {
      await staging.add(page);
      progress.pages += 1;
      progress.workspaces += page.length;
      options.onProgress?.(progress);
    }
  } catch (e) {
    error = toError(e).message;
  }
  try {
    // Also after a failed page: what was listed before it is staged, as it always was.
    await staging.finish();
  } catch (e) {
    error ??= toError(e).message;
  }
  if (error !== undefined) {
    run.log.warn(
      { err: error },
      'workspace listing failed part-way: nothing will be deleted or deactivated',
    );
  }
  return {
    table,
    complete: error === undefined,
    since,
    staged: staging.staged,
    ...(error ? { error } : {}),
  };
}

/**
 * 1b. Beside the listing (it reads none), on another connection: the customers not in step with
 * their links' last-known state staged (`stageCandidates`), then, for a real sweep, the deleted
 * ones among them marked (a mark made before the listing ends is as true as one made after it,
 * and a customer deleted meanwhile is unmarked, so not due: never deleted early). Resolves how
 * many customers there are (the progress shows them once the listing is done: planning has begun).
 */
export async function prepareCandidates(run: SweepRun, table: string): Promise<number> {
  const { deps, options } = run;
  const candidates = candidatesTableOf(table);
  const customers = await stageCandidates(deps.pool, deps.source, {
    table: candidates,
    template: deps.policy.nameTemplate,
  });
  if (!options.dryRun) {
    await markAllDeletedSeen(deps.pool, deps.source, deps.policy.deleteGraceMs, candidates);
  }
  return customers;
}

/**
 * 2a. What the listing says of the links, once it is staged: the listing indexed for planning
 * and, at once on another connection, diffed with the links (one pass); how many links are live
 * (the mass-change limit's denominator). A listing that repeated an item is diffed again once
 * the index has removed the repeat.
 */
export async function learnFromListing(run: SweepRun, listing: Listing): Promise<LinkDiff> {
  const { pool } = run.deps;
  const [indexed, diffed] = await Promise.allSettled([
    indexStaging(pool, listing.table),
    diffLinks(pool, listing.table, listing.staged),
  ]);
  if (indexed.status === 'rejected') throw indexed.reason;
  if (diffed.status === 'rejected') throw diffed.reason;
  const repeats = indexed.value;
  const diff =
    repeats > 0 ? await diffLinks(pool, listing.table, listing.staged - repeats) : diffed.value;
  run.counts.linked = diff.linked;
  return diff;
}

/**
 * 2b. Opens the facts: one snapshot of customers and links for the candidates and the customers
 * whose links the listing contradicts, joined with the listing. Whatever writes links after this
 * (the links' state refreshed beside planning) is not seen by it.
 */
export function openFacts(run: SweepRun, listing: Listing, diff: LinkDiff): Promise<FactsCursor> {
  const { deps } = run;
  return openCustomerFacts(deps.pool, deps.source, {
    listing: listing.table,
    candidates: candidatesTableOf(listing.table),
    diff: diff.table,
    template: deps.policy.nameTemplate,
    listingComplete: listing.complete,
    listedFrom: listing.since,
  });
}

/**
 * 2c. Beside planning (it changes nothing planning reads from its snapshot), for a real sweep:
 * each link's last-known state from the listing, so the syncs it queues decide from it and spend
 * no GET.
 */
export async function refreshLinks(run: SweepRun, listing: Listing, diff: LinkDiff): Promise<void> {
  if (run.options.dryRun) return;
  await refreshLinkStates(run.deps.pool, diff, listing.complete, listing.since);
}

/** 2d. Decides every customer not already in step, a batch at a time, and records the changes. */
export async function planCustomers(
  run: SweepRun,
  listing: Listing,
  facts: FactsCursor,
  now: number,
): Promise<void> {
  const { deps, options, progress } = run;
  // The customers were counted beside the listing: known before the first batch.
  options.onProgress?.(progress);
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const batch = await facts.next(BATCH);
      if (batch.length === 0) break;
      const planned: PlannedRow[] = [];
      for (const customerFacts of batch) {
        const decision = decideCustomer(customerFacts, deps.policy, now);
        for (const change of decision.changes) {
          if (!listing.complete && isDestructive(change)) continue;
          planned.push(change);
          note(run, change);
        }
        if (decision.conflict) {
          bump(run, 'conflicts');
          options.onConflict?.(decision.conflict);
          const { customerId, name } = decision.conflict;
          planned.push({ customerId, action: 'conflict', workspaceId: null, from: null, to: name });
        }
      }
      progress.changes += planned.length;
      await recordChanges(deps.pool, options.id, planned);
      options.onProgress?.(progress);
    }
  } finally {
    await facts.close();
  }
}

/**
 * 3. Reports the orphans, and plans the orphan policy's changes from a complete listing. A
 * complete listing of a real sweep writes the orphan report first and reads it back; a dry run
 * or an incomplete listing leaves the report alone and reads the diff's unlinked workspaces.
 */
export async function planOrphans(
  run: SweepRun,
  listing: Listing,
  diff: LinkDiff,
  now: number,
): Promise<void> {
  const { deps, options } = run;
  const report = listing.complete && !options.dryRun;
  if (report) await replaceOrphans(deps.pool, options.id, diff, new Date(now));
  let after: string | null = null;
  for (;;) {
    const orphans: WorkspaceState[] = report
      ? await reportedOrphans(deps.pool, options.id, after, BATCH)
      : await orphansOf(deps.pool, options.id, diff, after, BATCH);
    if (orphans.length === 0) break;
    after = orphans[orphans.length - 1]?.id ?? after;
    bump(run, 'orphans', orphans.length);
    const planned: Change[] = [];
    for (const orphan of orphans) {
      options.onOrphan?.(orphan);
      const change = listing.complete ? decideOrphan(orphan, deps.policy) : null;
      if (change) {
        planned.push(change);
        note(run, change);
      }
    }
    await recordChanges(deps.pool, options.id, planned);
  }
}

/**
 * What {@link findHoldReasons} found: whether the limit holds every gated change, and the
 * source's state.
 */
export interface HoldReasons {
  /** The plan's destructive changes exceed the mass-change limit: all of them are held. */
  readonly limit: boolean;
  /** The source looks out: the gated changes of customers whose rows left it are held. */
  readonly outage: SourceOutageReport | null;
  readonly size: SourceSize;
}

/**
 * Whether the plan's destructive changes exceed the mass-change limit, and whether the source
 * looks out (its size against the size last accepted, whatever the fleet's size); records the
 * figures.
 */
export async function findHoldReasons(run: SweepRun, listing: Listing): Promise<HoldReasons> {
  const { deps, counts, progress, options } = run;
  counts.workspaces = progress.workspaces;
  counts.customers = progress.customers;
  counts.pages = progress.pages;
  const limit = exceedsDestructiveLimit(run.destructive, counts.linked ?? 0, deps.policy);
  const size = await measureSource(deps.pool, deps.source);
  const reason = sourceOutage(size, deps.policy);
  if (!reason) return { limit, outage: null, size };
  // An incomplete listing planned nothing destructive: nothing to hold.
  const held = listing.complete
    ? await countGatedOfLeft(deps.pool, await deps.source.relation(deps.pool), options.id)
    : 0;
  const message = outageMessage(reason, size, deps.policy);
  return { limit, size, outage: { ...size, reason, held, message } };
}

/**
 * 4. Makes the plan count: the hold decision (committed before anything is queued: until then no
 * trigger treats this plan as admitted), then the syncs, in bulk.
 */
export async function holdAndQueue(
  run: SweepRun,
  listing: Listing,
  reasons: HoldReasons,
): Promise<void> {
  const { deps, options, counts } = run;
  const { pool, policy } = deps;
  const { held, voided } = await decideHolds(pool, options.id, {
    limit: reasons.limit,
    outage: reasons.outage?.reason ?? null,
    relation: await deps.source.relation(pool),
    staleBefore: listing.complete ? listing.since : null,
    accept:
      listing.complete && !reasons.outage
        ? { rows: reasons.size.rows, by: `sweep ${options.id}` }
        : null,
  });
  if (held > 0) counts.held = held;
  if (voided > 0) {
    counts.voided = voided;
    run.log.info({ voided }, 'dropped held changes the plan no longer calls for');
  }
  if (reasons.outage) {
    run.log.warn(
      { reason: reasons.outage.reason, rows: reasons.size.rows, accepted: reasons.size.accepted },
      `source outage: ${reasons.outage.message}`,
    );
  }
  if (reasons.limit) {
    run.log.warn(
      {
        destructive: run.destructive,
        linked: counts.linked,
        limit: policy.maxDestructivePerSweep,
        share: policy.maxDestructiveShare,
      },
      `sweep would deactivate, delete or re-create ${run.destructive} of ${counts.linked ?? 0} workspaces: held for approval (approve ${options.id})`,
    );
  }
  await queuePlanned(run);
}

/** Queues a sync for each subject with a change not held, in bulk. */
async function queuePlanned(run: SweepRun): Promise<void> {
  const { deps, options, progress, counts } = run;
  let lastId = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const next = await nextSubjectsToQueue(deps.pool, options.id, lastId, BATCH);
    if (next.subjects.length === 0 && next.lastId === lastId) break;
    lastId = next.lastId;
    await deps.syncQueue.enqueue(next.subjects, 'sweep', { sweepId: options.id });
    progress.queued += next.subjects.length;
    options.onProgress?.(progress);
  }
  counts.queued = progress.queued;
}
