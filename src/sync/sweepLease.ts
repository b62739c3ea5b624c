/**
 * Holding the sweep lease (`src/sql/leases.ts`) for the length of one sweep: renewed every
 * third of its duration, and given up — the sweep aborted — the moment it cannot be known to be
 * ours: a renewal refused (another daemon took it while this one was stopped) or none succeeding
 * for a whole lease duration (Postgres unreachable, so another daemon may take it).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

import type pg from 'pg';

import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { releaseLease, renewLease, SWEEP_LEASE, takeLease } from '../sql/leases.js';

export interface SweepLease {
  /** This holding's id in the lease row: writes fenced by it happen only while it holds. */
  readonly holder: string;
  /** Aborts when the lease is lost; the sweep checks it between steps. */
  readonly signal: AbortSignal;
  /** Stops renewing and gives the lease back (safe to call twice). */
  release(): Promise<void>;
}

/**
 * Takes the lease for `sweepId`, waiting up to `waitMs` for one in force to be released or to
 * lapse; undefined when another sweep still holds it then. The wait is what lets a sweep job
 * retaken from a killed daemon run instead of being skipped: the dead holder's lease lapses
 * within one lease duration, about when the job is retaken.
 */
export async function takeSweepLease(
  pool: pg.Pool,
  sweepId: string,
  ttlMs: number,
  logger: Logger,
  options: { waitMs?: number; signal?: AbortSignal } = {},
): Promise<SweepLease | undefined> {
  const holder = randomUUID();
  const deadline = performance.now() + (options.waitMs ?? 0);
  while (!(await takeLease(pool, SWEEP_LEASE, holder, ttlMs))) {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    await delay(Math.min(left, Math.max(50, ttlMs / 10)), undefined, {
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  const lost = new AbortController();
  let renewedAt = performance.now();
  let released = false;
  const loseIt = (why: string) => {
    if (lost.signal.aborted) return;
    logger.warn({ sweepId }, `sweep lock lost: ${why}; this sweep stops`);
    lost.abort(new Error(`sweep lock lost: ${why}`));
  };
  const renew = async () => {
    try {
      if (await renewLease(pool, SWEEP_LEASE, holder, ttlMs)) renewedAt = performance.now();
      else loseIt('another daemon took it');
    } catch (error) {
      logger.warn({ sweepId, err: toError(error).message }, 'could not renew the sweep lock');
    }
    // Checked after the attempt: a process resumed from a stop must not trust an old renewal.
    if (!released && performance.now() - renewedAt >= ttlMs) loseIt('not renewed in time');
  };
  const timer = setInterval(() => void renew(), Math.max(100, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    holder,
    signal: lost.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await releaseLease(pool, SWEEP_LEASE, holder).catch((error: unknown) => {
        // It lapses by itself after `ttlMs`.
        logger.warn({ sweepId, err: toError(error).message }, 'could not release the sweep lock');
      });
    },
  };
}
