/**
 * Failed syncs as a person reviews them: `status` lists them, the console's failed page shows
 * them with their customers' names. Reads only; queueing them again is `retry-failed`
 * (src/ops/retryFailed.ts).
 */
import type { App } from '../app.js';
import { customerNames } from '../sql/fleet.js';
import type { FailedSync } from '../sql/typedReads.js';

export type { FailedSync } from '../sql/typedReads.js';

/** The subjects whose last sync failed, latest first, up to `limit`. */
export async function listFailedSyncs(
  app: Pick<App, 'pool'>,
  limit?: number,
): Promise<FailedSync[]> {
  // Loaded here, on first use: an idle daemon never holds drizzle (see typedReads.ts).
  const { failedSyncs } = await import('../sql/typedReads.js');
  return failedSyncs(app.pool, limit);
}

export interface FailedReview {
  readonly failed: FailedSync[];
  /** Their customers' names, by id (an orphan's subject has none). */
  readonly names: Map<string, string>;
}

/** The failed syncs and their customers' names. */
export async function reviewFailedSyncs(
  app: Pick<App, 'pool' | 'source'>,
  limit?: number,
): Promise<FailedReview> {
  const failed = await listFailedSyncs(app, limit);
  const names = await customerNames(
    app.pool,
    app.source,
    failed.map((f) => f.customerId),
  );
  return { failed, names };
}
