/**
 * `enqueue`: the manual backfill. Queues the same deduplicated per-customer sync every other
 * trigger uses, in batches, so running it twice (or while a sweep runs) queues nothing twice.
 */
import type { App } from '../app.js';
import type { CustomerStatus } from '../core/types.js';
import { countCustomers, customerIdsAfter, existingCustomerIds } from '../sql/subjects.js';
import { isReservedId } from '../core/subject.js';

type EnqueueApp = Pick<App, 'pool' | 'source' | 'syncQueue'>;

/** Customers per round trip to Postgres and to Redis. */
export const ENQUEUE_BATCH = 500;

/**
 * Up to this many named customers are someone waiting to see them (trigger `enqueue`, ahead of
 * backfills); more, and `--all`, are a backfill (trigger `backfill`, behind people's syncs).
 */
export const FEW_CUSTOMERS = 100;

export interface EnqueueProgress {
  readonly done: number;
  readonly total: number;
}

export interface EnqueueResult {
  /** Customers whose sync was queued (or was already waiting: deduplicated). */
  readonly queued: number;
  /**
   * Ids given that are not customers, or that would read as an orphan's key (`workspace:…`,
   * never synced as a customer); nothing was queued for them.
   */
  readonly unknown: string[];
}

/**
 * Queues a sync for each named customer that exists; reports the ids that do not. A sync asked
 * for by name reads the workspace before deciding (docs/design.md §2), so it repairs a rename or a
 * status change made on the Agent Engine's side; `--all` trusts the links as sweeps do.
 */
export async function enqueueCustomers(
  app: EnqueueApp,
  ids: readonly string[],
  onProgress?: (progress: EnqueueProgress) => void,
): Promise<EnqueueResult> {
  const unique = [...new Set(ids)];
  const trigger = unique.length <= FEW_CUSTOMERS ? 'enqueue' : 'backfill';
  const unknown: string[] = [];
  let queued = 0;
  for (let i = 0; i < unique.length; i += ENQUEUE_BATCH) {
    const batch = unique.slice(i, i + ENQUEUE_BATCH);
    const existing = await existingCustomerIds(app.pool, app.source, batch);
    const known = batch.filter((id) => existing.has(id) && !isReservedId(id));
    unknown.push(...batch.filter((id) => !existing.has(id) || isReservedId(id)));
    // Named by a person, who suspects the remote side: each sync reads its workspace first.
    if (known.length > 0) await app.syncQueue.enqueue(known, trigger, { readFirst: true });
    queued += known.length;
    onProgress?.({ done: i + batch.length, total: unique.length });
  }
  return { queued, unknown };
}

/** Queues a sync for every customer (or every one of a status), a page at a time. */
export async function enqueueAll(
  app: EnqueueApp,
  options: { status?: CustomerStatus; onProgress?: (progress: EnqueueProgress) => void } = {},
): Promise<EnqueueResult> {
  const total = await countCustomers(app.pool, app.source, options.status);
  let after: string | null = null;
  let queued = 0;
  for (;;) {
    const page = await customerIdsAfter(app.pool, app.source, after, ENQUEUE_BATCH, options.status);
    if (page.length === 0) break;
    const ids = page.filter((id) => !isReservedId(id));
    if (ids.length > 0) await app.syncQueue.enqueue(ids, 'backfill');
    queued += ids.length;
    after = page[page.length - 1] ?? after;
    // Customers added while this runs can push `done` past the first count.
    options.onProgress?.({ done: queued, total: Math.max(total, queued) });
  }
  return { queued, unknown: [] };
}
