/**
 * Held changes as a person reviews them: `status` lists them, the console's held page shows them
 * with the sweeps that held them and their customers' names. Reads only; releasing them is
 * `approve` (src/ops/approve.ts).
 */
import type { App } from '../app.js';
import { customerNames } from '../sql/fleet.js';
import { type HeldChange, heldChanges, limitTripped } from '../sql/holds.js';
import { getSweep, type SweepRow } from '../sql/sweepProgress.js';

export type { HeldChange } from '../sql/holds.js';
export type { SweepRow } from '../sql/sweepProgress.js';

/** Every change still held, oldest first, up to `limit`. */
export async function listHeldChanges(
  app: Pick<App, 'pool'>,
  limit?: number,
): Promise<HeldChange[]> {
  return heldChanges(app.pool, limit);
}

/**
 * Whether the mass-change limit is tripped: a change it held waits for a person, and until then
 * every destructive change from outside a sweep is held too.
 */
export async function isLimitTripped(app: Pick<App, 'pool'>): Promise<boolean> {
  return limitTripped(app.pool);
}

export interface HeldReview {
  readonly held: HeldChange[];
  /** The sweeps that held them, by id. */
  readonly sweeps: Map<string, SweepRow>;
  /** Their customers' names, by id. */
  readonly names: Map<string, string>;
}

/** The held changes, the sweeps that held them, and their customers' names. */
export async function reviewHeldChanges(
  app: Pick<App, 'pool' | 'source'>,
  limit?: number,
): Promise<HeldReview> {
  const held = await listHeldChanges(app, limit);
  const ids = [...new Set(held.flatMap((h) => (h.sweepId ? [h.sweepId] : [])))];
  const rows = await Promise.all(ids.map((id) => getSweep(app.pool, id)));
  const sweeps = new Map(rows.flatMap((s): [string, SweepRow][] => (s ? [[s.id, s]] : [])));
  const names = await customerNames(
    app.pool,
    app.source,
    held.flatMap((h) => (h.customerId ? [h.customerId] : [])),
  );
  return { held, sweeps, names };
}
