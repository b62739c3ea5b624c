/**
 * The pass over applied webhook events whose sync was never queued (Redis hung or was down when
 * they arrived, or the daemon died between COMMIT and the enqueue). Every daemon runs it every
 * {@link REQUEUE_EVERY_MS}: it reads the partial index of such events (empty, so one cheap index
 * probe, when nothing is pending), queues their customers' syncs and marks them queued. Two
 * daemons may queue one customer at once; the sync job is deduplicated per customer, so that is
 * harmless.
 */
import type pg from 'pg';

import type { SyncQueue } from '../core/ports.js';
import type { Clock } from '../lib/clock.js';
import { SECOND } from '../lib/duration.js';
import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { markWebhookEventsQueued, unqueuedWebhookEvents } from '../sql/webhookEvents.js';
import { ENQUEUE_BOUND_MS } from './ingest.js';

/** How often each daemon looks for events whose sync was not queued. */
export const REQUEUE_EVERY_MS = 5 * SECOND;

/** Events younger than this are left to the delivery still queueing them. */
const GRACE_MS = 2 * ENQUEUE_BOUND_MS;

/** Events per round trip; a pass takes rounds until a short one. */
const BATCH = 500;

export interface RequeueDeps {
  readonly pool: Pick<pg.Pool, 'query'>;
  readonly syncQueue: SyncQueue;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Builds the pass: each call queues what is pending and resolves to how many events it queued.
 * A call while the previous one still runs (a hung Redis) returns 0 at once, so passes never
 * pile up. Failures are logged; the next pass tries again.
 */
export function webhookRequeuer(deps: RequeueDeps): () => Promise<number> {
  let running = false;
  const round = async (): Promise<number> => {
    const before = new Date(deps.clock.now() - GRACE_MS);
    const events = await unqueuedWebhookEvents(deps.pool, before, BATCH);
    if (events.length === 0) return 0;
    await deps.syncQueue.enqueue([...new Set(events.map((e) => e.customerId))], 'webhook');
    await markWebhookEventsQueued(deps.pool, events, new Date(deps.clock.now()));
    return events.length;
  };
  return async () => {
    if (running) return 0;
    running = true;
    let total = 0;
    try {
      for (let n = BATCH; n === BATCH; total += n) n = await round();
      return total;
    } catch (error) {
      deps.logger.warn(
        { err: toError(error).message, requeued: total },
        'could not queue the syncs of webhook events not queued yet; will retry',
      );
      return total;
    } finally {
      if (total > 0)
        deps.logger.info({ requeued: total }, 'queued syncs of earlier webhook events');
      running = false;
    }
  };
}
