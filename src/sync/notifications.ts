/**
 * Direct writes: other systems may change `customers` without a webhook. A trigger sends each
 * changed id on `customer_sync_changed`; this listener gathers them for a moment and queues their
 * syncs in bulk. If the connection drops it reconnects; anything missed meanwhile is found by the
 * next sweep, which remains the backstop.
 */
import pg from 'pg';

import type { SyncQueue } from '../core/ports.js';
import { toError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export const CHANNEL = 'customer_sync_changed';

export interface NotificationListener {
  close(): Promise<void>;
  /** True while LISTEN is in force. */
  readonly listening: boolean;
  /** Resolves once LISTEN is first in force (never rejects; it keeps retrying). */
  readonly ready: Promise<void>;
}

export function listenForChanges(options: {
  databaseUrl: string;
  syncQueue: SyncQueue;
  logger: Logger;
  /** How long ids are gathered before one bulk enqueue. */
  flushEveryMs?: number;
}): NotificationListener {
  const { logger, syncQueue } = options;
  const flushEveryMs = options.flushEveryMs ?? 50;
  const pending = new Set<string>();
  let client: pg.Client | undefined;
  let closed = false;
  let listening = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = 500;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const flush = async () => {
    flushTimer = undefined;
    const ids = [...pending];
    pending.clear();
    if (ids.length === 0) return;
    try {
      await syncQueue.enqueue(ids, 'notify');
    } catch (error) {
      logger.warn(
        { err: toError(error).message, count: ids.length },
        'could not queue syncs for direct writes; the next sweep will',
      );
    }
  };

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: 'customer-sync listen',
    });
    next.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      pending.add(message.payload);
      flushTimer ??= setTimeout(() => void flush(), flushEveryMs);
    });
    next.on('error', (error) => {
      listening = false;
      logger.warn({ err: error.message }, 'change listener lost its connection; reconnecting');
      next.end().catch(() => {});
      schedule();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      client = next;
      listening = true;
      backoff = 500;
      markReady();
      if (closed) await next.end();
    } catch (error) {
      next.end().catch(() => {});
      logger.warn({ err: toError(error).message }, 'change listener could not connect; retrying');
      schedule();
    }
  };

  const schedule = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, backoff);
    backoff = Math.min(backoff * 2, 30_000);
  };

  void connect();
  return {
    ready,
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
