/**
 * The daily retention job. Every daemon tries it every hour; a lease taken for a day (and left to
 * lapse) lets one daemon a day run it, whichever asks first, with no schedule to keep in Redis.
 */
import { randomUUID } from 'node:crypto';

import type pg from 'pg';

import type { Clock } from '../lib/clock.js';
import { DAY } from '../lib/duration.js';
import type { Logger } from '../lib/logger.js';
import { releaseLease, takeLease } from '../sql/leases.js';
import { type Pruned, pruneOlderThan } from '../sql/retention.js';

export const RETENTION_LEASE = 'retention';

/** Prunes what is older than `retentionMs` unless a daemon did so in the last day. */
export async function runRetention(deps: {
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  retentionMs: number;
  batch?: number;
}): Promise<Pruned | undefined> {
  const holder = randomUUID();
  if (!(await takeLease(deps.pool, RETENTION_LEASE, holder, DAY))) return undefined;
  const cutoff = new Date(deps.clock.now() - deps.retentionMs);
  let pruned: Pruned;
  try {
    pruned = await pruneOlderThan(deps.pool, cutoff, deps.batch);
  } catch (error) {
    // Not done today: let the next hourly attempt, on any daemon, take it again.
    await releaseLease(deps.pool, RETENTION_LEASE, holder).catch(() => {});
    throw error;
  }
  deps.logger.info({ ...pruned, cutoff: cutoff.toISOString() }, 'retention: old records pruned');
  return pruned;
}
