/**
 * Direct writes: other systems may change `customers` (or the tables behind a user's source,
 * CUSTOMERS_NOTIFY_TABLES) without a webhook. A trigger sends each changed id on
 * `customer_sync_changed`; this listener gathers them for a moment and queues their syncs in bulk.
 * If the connection drops it reconnects, and once it listens again it asks for a sweep
 * (`onMissed`): a NOTIFY sent while nobody listened is gone for good, and the sweep is the one way
 * to find the writes it carried without waiting for the next scheduled one.
 *
 * Memory is bounded: at most `maxPending` distinct ids wait, and they are queued one batch of
 * `batchSize` at a time. A burst beyond that (a bulk UPDATE of the whole table) is not worth
 * queueing id by id: the ids past the bound are dropped and one sweep is asked for instead
 * (`onOverflow`), which finds every difference whatever the burst was.
 */
import pg from 'pg';

import type { SyncQueue } from '../core/ports.js';
import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { isReservedId } from '../core/subject.js';

export const CHANNEL = 'customer_sync_changed';

export interface NotificationListener {
  close(): Promise<void>;
  /** True while LISTEN is in force. */
  readonly listening: boolean;
  /** Resolves once LISTEN is first in force (never rejects; it keeps retrying). */
  readonly ready: Promise<void>;
  /**
   * Resolves once every change committed before the call has been queued: one round trip on the
   * listening connection (Postgres sends a session its notifications before it reads the next
   * query), then the gathered ids are queued at once instead of at the end of the moment. While
   * the connection is down there is nothing to wait for: the next sweep finds what was missed.
   */
  settled(): Promise<void>;
}

export function listenForChanges(options: {
  databaseUrl: string;
  syncQueue: SyncQueue;
  logger: Logger;
  /** How long ids are gathered before one bulk enqueue. */
  flushEveryMs?: number;
  /** The most distinct ids waiting to be queued; past it, a sweep is asked for. */
  maxPending?: number;
  /** The most ids queued in one enqueue. */
  batchSize?: number;
  /** Asks for a sweep when ids had to be dropped; called once per overflow. */
  onOverflow?: () => Promise<void>;
  /** Asks for a sweep once LISTEN is back after a lost connection (writes may have gone unheard). */
  onMissed?: () => Promise<void>;
}): NotificationListener {
  const { logger, syncQueue } = options;
  const flushEveryMs = options.flushEveryMs ?? 50;
  const maxPending = options.maxPending ?? 10_000;
  const batchSize = options.batchSize ?? 1_000;
  const pending = new Set<string>();
  let dropped = 0;
  let flushing: Promise<void> | undefined;
  let client: pg.Client | undefined;
  let closed = false;
  let listening = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = 500;
  /** Set once a LISTEN was lost: the next one to take hold asks for a sweep. */
  let deafSince: number | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  /** Queues what is pending, one batch at a time; a second caller waits for the first. */
  const flush = async (): Promise<void> => {
    flushTimer = undefined;
    flushing ??= drain().finally(() => (flushing = undefined));
    return flushing;
  };

  const drain = async () => {
    while (pending.size > 0 || dropped > 0) {
      const ids: string[] = [];
      for (const id of pending) {
        if (ids.length >= batchSize) break;
        ids.push(id);
        pending.delete(id);
      }
      if (dropped > 0) await overflowed();
      if (ids.length === 0) continue;
      try {
        await syncQueue.enqueue(ids, 'notify');
      } catch (error) {
        logger.warn(
          { err: toError(error).message, count: ids.length },
          'could not queue syncs for direct writes; the next sweep will',
        );
      }
    }
  };

  const overflowed = async () => {
    const count = dropped;
    dropped = 0;
    logger.warn(
      { dropped: count, maxPending },
      'burst of direct writes beyond the listener bound: asking for a sweep instead',
    );
    await options.onOverflow?.().catch((error: unknown) => {
      logger.warn({ err: toError(error).message }, 'could not queue the sweep; the next one will');
    });
  };

  const onId = (id: string) => {
    if (pending.size < maxPending || pending.has(id)) pending.add(id);
    else dropped += 1;
    flushTimer ??= setTimeout(() => void flush(), flushEveryMs);
  };

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: 'customer-sync listen',
    });
    next.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      // A row whose id reads as an orphan's job key is never synced as a customer.
      if (isReservedId(message.payload)) {
        options.logger.warn(
          { customerId: message.payload },
          'a customer id starting with "workspace:" is not synced (it would name an orphan)',
        );
        return;
      }
      onId(message.payload);
    });
    // A server that shuts down (restart, failover) may only close the socket: pg then emits
    // 'end' without an 'error', and a listener waiting for 'error' would stay deaf for good.
    const lost = (why: string) => {
      if (closed || (client !== next && client !== undefined)) return;
      client = undefined;
      listening = false;
      deafSince ??= Date.now();
      logger.warn({ err: why }, 'change listener lost its connection; reconnecting');
      next.end().catch(() => {});
      schedule();
    };
    next.on('error', (error) => lost(error.message));
    next.on('end', () => lost('connection ended'));
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      client = next;
      listening = true;
      backoff = 500;
      markReady();
      if (closed) await next.end();
      else if (deafSince !== undefined) caughtUp();
    } catch (error) {
      next.end().catch(() => {});
      logger.warn({ err: toError(error).message }, 'change listener could not connect; retrying');
      schedule();
    }
  };

  /** Listening again after a loss: whatever was written meanwhile is for a sweep to find. */
  const caughtUp = () => {
    const deafForMs = Date.now() - (deafSince ?? Date.now());
    deafSince = undefined;
    logger.info({ deafForMs }, 'change listener listening again: asking for a sweep');
    void options.onMissed?.().catch((error: unknown) => {
      logger.warn({ err: toError(error).message }, 'could not queue the sweep; the next one will');
    });
  };

  const schedule = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, backoff);
    // At most 5 s deaf after Postgres is back (a connect attempt every 5 s costs nothing).
    backoff = Math.min(backoff * 2, 5_000);
  };

  void connect();
  return {
    ready,
    async settled() {
      await client?.query('select 1').catch(() => {});
      if (flushTimer) clearTimeout(flushTimer);
      await flush();
    },
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      listening = false;
      if (retryTimer) clearTimeout(retryTimer);
      if (flushTimer) clearTimeout(flushTimer);
      await flush();
      await client?.end().catch(() => {});
    },
  };
}
